# SPDX-License-Identifier: GPL-2.0
# af_smbdirect: out-of-tree build and project entry points.
#   make                  build af_smbdirect.ko for the running kernel
#   make KDIR=<dir>       build against another kernel build tree
#   make check            build for every supported kernel and run all tests
#   make demo             boot guests and show the module at work
#   make fuzz             the fuzz campaign (tests/fuzz, libFuzzer)

KDIR ?= /lib/modules/$(shell uname -r)/build

all: modules

modules:
	$(MAKE) -C $(KDIR) M=$(CURDIR) modules

kunit:
	$(MAKE) -C $(KDIR) M=$(CURDIR)/tests/kunit modules

clean:
	$(MAKE) -C $(KDIR) M=$(CURDIR) clean
	rm -rf out

check:
	./scripts/check.sh

demo:
	./scripts/demo.sh

fuzz:
	./scripts/fuzz.sh

.PHONY: all modules kunit clean check demo fuzz
