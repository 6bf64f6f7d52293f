# Runs at install time (`cmake --install`, cpack): installs the service files with paths taken
# from the prefix being installed to, which is only known now (`cmake --install --prefix`, and
# cpack's /usr). The GNU rule for the configuration directory: <prefix>/etc, except /etc for the
# /usr prefix. Variables from packaging/CMakeLists.txt: DYNAKV_SOURCE_DIR, DYNAKV_STAGE_DIR.

set(prefix "${CMAKE_INSTALL_PREFIX}")
string(REGEX REPLACE "/+$" "" prefix "${prefix}")
if(prefix STREQUAL "/usr")
  set(etc "/etc")
else()
  set(etc "${prefix}/etc")
endif()
set(DYNAKV_BINDIR "${prefix}/bin")
set(DYNAKV_CONFDIR "${etc}/dynakv")

# The unit, with this prefix's paths.
configure_file("${DYNAKV_SOURCE_DIR}/packaging/dynakv.service.in"
               "${DYNAKV_STAGE_DIR}/dynakv.service" @ONLY)
file(INSTALL "${DYNAKV_STAGE_DIR}/dynakv.service"
     DESTINATION "${prefix}/lib/systemd/system" PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ
     WORLD_READ)

# The default config (conf/node.toml) with a service's places: data in /var/lib/dynakv, the
# log in /var/log/dynakv (rotated by the logrotate snippet). An existing config is left alone:
# a reinstall must not undo an operator's changes (the .deb marks it a conffile for the same).
file(READ "${DYNAKV_SOURCE_DIR}/conf/node.toml" config)
foreach(pair "dir = \"data\"|dir = \"/var/lib/dynakv\""
             "logfile = \"\"   |logfile = \"/var/log/dynakv/dynakv.log\"")
  string(REPLACE "|" ";" pair "${pair}")
  list(GET pair 0 from)
  list(GET pair 1 to)
  string(FIND "${config}" "${from}" at)
  if(at EQUAL -1)
    message(FATAL_ERROR "conf/node.toml has no '${from}' line to adapt for the service")
  endif()
  string(REPLACE "${from}" "${to}" config "${config}")
endforeach()
file(WRITE "${DYNAKV_STAGE_DIR}/dynakv.toml" "${config}")
if(EXISTS "$ENV{DESTDIR}${DYNAKV_CONFDIR}/dynakv.toml")
  message(STATUS "Keeping existing: $ENV{DESTDIR}${DYNAKV_CONFDIR}/dynakv.toml")
  list(APPEND CMAKE_INSTALL_MANIFEST_FILES "${DYNAKV_CONFDIR}/dynakv.toml")
else()
  file(INSTALL "${DYNAKV_STAGE_DIR}/dynakv.toml" DESTINATION "${DYNAKV_CONFDIR}"
       PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ)
endif()

file(INSTALL "${DYNAKV_SOURCE_DIR}/packaging/dynakv.logrotate" DESTINATION "${etc}/logrotate.d"
     RENAME dynakv PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ WORLD_READ)
