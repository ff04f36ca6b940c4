# SPDX-License-Identifier: GPL-2.0
# af_smbdirect: out-of-tree build and project entry points.
#   make                  build af_smbdirect.ko for the running kernel
#   make KDIR=<dir>       build against another kernel build tree
#   make install          module, depmod, header, tools, man pages
#   make uninstall        remove what install put there
#   make check            build for every supported kernel and run all tests
#   make check-full       every suite on every kernel, install tests too
#   make demo             boot guests and show the module at work
#   make fuzz             the fuzz campaign (tests/fuzz, libFuzzer)
# install/uninstall honour DESTDIR, PREFIX (default /usr) and KRELEASE
# (default: KDIR's release, else the running kernel's).

# A KDIR given alone names the kernel too: install where it will load.
KRELEASE ?= $(if $(KDIR),$(shell cat $(KDIR)/include/config/kernel.release 2>/dev/null))
override KRELEASE := $(or $(KRELEASE),$(shell uname -r))
KDIR ?= /lib/modules/$(KRELEASE)/build

PREFIX ?= /usr
INCLUDEDIR ?= $(PREFIX)/include
MANDIR ?= $(PREFIX)/share/man
# updates/ takes precedence over the kernel's own tree in depmod's search.
MODDIR := /lib/modules/$(KRELEASE)/updates
INSTALL ?= install

all: modules

modules:
	$(MAKE) -C $(KDIR) M=$(CURDIR) modules

kunit:
	$(MAKE) -C $(KDIR) M=$(CURDIR)/tests/kunit modules

install: install-module install-headers install-man install-tools

# depmod only on the live system: a DESTDIR is staging for a package,
# whose own scripts run it.
install-module: modules
	$(INSTALL) -D -m 0644 smbdirect/af_smbdirect.ko $(DESTDIR)$(MODDIR)/af_smbdirect.ko
	$(if $(DESTDIR),,depmod -a $(KRELEASE))

install-headers:
	$(INSTALL) -D -m 0644 include/uapi/linux/af_smbdirect.h \
		$(DESTDIR)$(INCLUDEDIR)/linux/af_smbdirect.h

install-man:
	$(INSTALL) -D -m 0644 Documentation/smbdirect.7 $(DESTDIR)$(MANDIR)/man7/smbdirect.7

install-tools:
	$(MAKE) -C tools install PREFIX=$(PREFIX) MANDIR=$(MANDIR)

uninstall:
	rm -f $(DESTDIR)$(MODDIR)/af_smbdirect.ko
	$(if $(DESTDIR),,depmod -a $(KRELEASE))
	rm -f $(DESTDIR)$(INCLUDEDIR)/linux/af_smbdirect.h
	rm -f $(DESTDIR)$(MANDIR)/man7/smbdirect.7
	$(MAKE) -C tools uninstall PREFIX=$(PREFIX) MANDIR=$(MANDIR)

clean:
	$(MAKE) -C $(KDIR) M=$(CURDIR) clean
	rm -rf out

check:
	./scripts/check.sh

check-full:
	AFS_FULL=1 ./scripts/check.sh

demo:
	./scripts/demo.sh

fuzz:
	./scripts/fuzz.sh

.PHONY: all modules kunit install install-module install-headers install-man \
	install-tools uninstall clean check check-full demo fuzz
