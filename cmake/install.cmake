# What `cmake --install` puts on a system besides the two programs: the
# SMCRoute names, man pages, the systemd units, bash completion, the API
# reference with its OpenRPC document, and the example configuration. The Debian package (packaging/debian) installs
# through this file too, so a hand install and the package agree.
#
# Included from the top-level CMakeLists.txt after GNUInstallDirs.
#
# Cache variables for distributions:
#   MFCD_SYSTEMD_UNIT_DIR    where mfcd.service goes ("" = do not install it)
#   MFCD_BASH_COMPLETION_DIR where the mfcctl completion goes
#   MFCD_INSTALL_EXAMPLE_CONFIG  install /etc/mfcd.conf and /etc/mfcd.d

include(GNUInstallDirs)

# Under /usr the unit goes where systemd looks for packaged units; under
# any other prefix it stays inside the prefix, so that a /usr/local install
# does not write into /lib.
if(CMAKE_INSTALL_PREFIX STREQUAL "/usr")
  set(_mfcd_unit_default "/lib/systemd/system")
  find_package(PkgConfig QUIET)
  if(PKG_CONFIG_FOUND)
    pkg_get_variable(_mfcd_unit_pc systemd systemdsystemunitdir)
    if(_mfcd_unit_pc)
      set(_mfcd_unit_default "${_mfcd_unit_pc}")
    endif()
  endif()
else()
  set(_mfcd_unit_default "${CMAKE_INSTALL_PREFIX}/lib/systemd/system")
endif()
set(MFCD_SYSTEMD_UNIT_DIR "${_mfcd_unit_default}" CACHE PATH "systemd unit directory (empty: none)")
set(MFCD_BASH_COMPLETION_DIR "${CMAKE_INSTALL_FULL_DATADIR}/bash-completion/completions"
    CACHE PATH "bash completion directory")
option(MFCD_INSTALL_EXAMPLE_CONFIG "Install the example /etc/mfcd.conf and /etc/mfcd.d" ON)

# SMCRoute's names: relative symlinks next to the programs, which pick
# SMCRoute's default paths when started under these names.
install(CODE "
  file(MAKE_DIRECTORY \"\$ENV{DESTDIR}${CMAKE_INSTALL_FULL_SBINDIR}\")
  file(CREATE_LINK mfcd \"\$ENV{DESTDIR}${CMAKE_INSTALL_FULL_SBINDIR}/smcrouted\" SYMBOLIC)
  file(CREATE_LINK mfcctl \"\$ENV{DESTDIR}${CMAKE_INSTALL_FULL_SBINDIR}/smcroutectl\" SYMBOLIC)
  message(STATUS \"Installing: \$ENV{DESTDIR}${CMAKE_INSTALL_FULL_SBINDIR}/smcrouted -> mfcd\")
  message(STATUS \"Installing: \$ENV{DESTDIR}${CMAKE_INSTALL_FULL_SBINDIR}/smcroutectl -> mfcctl\")")

# Man pages are written in mdoc, which is roff: they install as they are.
install(FILES docs/man/mfcd.8 docs/man/mfcctl.8 DESTINATION ${CMAKE_INSTALL_MANDIR}/man8)
install(FILES docs/man/mfcd.conf.5 DESTINATION ${CMAKE_INSTALL_MANDIR}/man5)
install(CODE "
  set(_man \"\$ENV{DESTDIR}${CMAKE_INSTALL_FULL_MANDIR}\")
  file(CREATE_LINK mfcd.8 \"\${_man}/man8/smcrouted.8\" SYMBOLIC)
  file(CREATE_LINK mfcctl.8 \"\${_man}/man8/smcroutectl.8\" SYMBOLIC)")

install(FILES packaging/completion/mfcctl.bash DESTINATION ${MFCD_BASH_COMPLETION_DIR}
        RENAME mfcctl)
install(FILES packaging/completion/mfcd.bash DESTINATION ${MFCD_BASH_COMPLETION_DIR}
        RENAME mfcd)
install(CODE "
  file(CREATE_LINK mfcctl \"\$ENV{DESTDIR}${MFCD_BASH_COMPLETION_DIR}/smcroutectl\" SYMBOLIC)
  file(CREATE_LINK mfcd \"\$ENV{DESTDIR}${MFCD_BASH_COMPLETION_DIR}/smcrouted\" SYMBOLIC)")

# The API reference and the migration guide for people (the doc directory),
# the OpenRPC document for programs (the data directory; rpc.discover
# returns the same document from a running daemon).
install(FILES docs/api.md docs/metrics.md docs/migrating-from-smcroute.md LICENSE
        DESTINATION ${CMAKE_INSTALL_DOCDIR})
install(FILES schema/mfcd.openrpc.json DESTINATION ${CMAKE_INSTALL_DATADIR}/mfcd)

# The units name /usr/sbin and /etc; other prefixes get their own paths.
# mfcd@.service is the template for more instances (mfcd@NAME: -i NAME);
# smcroute.service runs smcrouted, as SMCRoute's own unit does;
# mfcd-metrics.timer writes the metrics for node_exporter (not enabled).
if(MFCD_SYSTEMD_UNIT_DIR)
  foreach(_mfcd_unit_name mfcd.service mfcd@.service smcroute.service mfcd-metrics.service
                          mfcd-metrics.timer)
    set(_mfcd_unit_src ${CMAKE_SOURCE_DIR}/packaging/systemd/${_mfcd_unit_name})
    set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS ${_mfcd_unit_src})
    file(READ ${_mfcd_unit_src} _mfcd_unit)
    string(REPLACE "/usr/sbin/" "${CMAKE_INSTALL_FULL_SBINDIR}/" _mfcd_unit "${_mfcd_unit}")
    string(REPLACE "/etc/" "${CMAKE_INSTALL_FULL_SYSCONFDIR}/" _mfcd_unit "${_mfcd_unit}")
    file(WRITE ${CMAKE_BINARY_DIR}/${_mfcd_unit_name} "${_mfcd_unit}")
    install(FILES ${CMAKE_BINARY_DIR}/${_mfcd_unit_name} DESTINATION ${MFCD_SYSTEMD_UNIT_DIR})
  endforeach()
endif()

if(MFCD_INSTALL_EXAMPLE_CONFIG)
  # FULL_SYSCONFDIR is /etc for the /usr prefix, PREFIX/etc otherwise.
  install(FILES conf/mfcd.conf DESTINATION ${CMAKE_INSTALL_FULL_SYSCONFDIR})
  # A comment-only file, so that mfcd.conf's include matches one on a fresh
  # install (mfcd warns about a pattern that matches nothing).
  install(FILES conf/mfcd.d/README.conf DESTINATION ${CMAKE_INSTALL_FULL_SYSCONFDIR}/mfcd.d)
endif()
