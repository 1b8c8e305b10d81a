# `cmake --install` layout (GNUInstallDirs; prefix /usr in the Debian packages):
#   bin/                               tearline-broker, tearline-node, tearline-admin/-audit/-certs/-label
#   share/tearline/policy/             the shipped coalition policy (the default when no `policy` key)
#   share/tearline/examples/           example broker and node configurations
#   lib/systemd/system/                tearline-broker.service, tearline-node@.service
#   share/man/man1/                    one page per program, from its --help text
#   include/tearline/, lib/            the core library and its headers (tearline::core)
#   lib/cmake/Tearline/                the CMake package: find_package(Tearline) -> tearline::core
#
# Install components (one Debian package each, see cmake/TearlinePackaging.cmake): broker, node,
# tools (the tools, the policy and the examples, which broker and node depend on) and dev (the
# library, headers and CMake package; not packaged, installed by a plain `cmake --install`).
include(CMakePackageConfigHelpers)

# Installing (and cpack, which installs) copies what the build made and never builds `all` first:
# the package test packs a tree that is already built, without rebuilding every test beforehand.
set(CMAKE_SKIP_INSTALL_ALL_DEPENDENCY ON)

set(TEARLINE_INSTALL_CMAKEDIR "${CMAKE_INSTALL_LIBDIR}/cmake/Tearline")
set(TEARLINE_INSTALL_SHAREDIR "${CMAKE_INSTALL_DATADIR}/tearline")
# Relative to the prefix, so an install into a scratch prefix never touches the host's units;
# the packages (prefix /usr) put them in /usr/lib/systemd/system, which systemd reads.
set(TEARLINE_INSTALL_UNITDIR "lib/systemd/system")

install(TARGETS tearline-broker RUNTIME DESTINATION "${CMAKE_INSTALL_BINDIR}" COMPONENT broker)
install(TARGETS tearline-node RUNTIME DESTINATION "${CMAKE_INSTALL_BINDIR}" COMPONENT node)
install(TARGETS tearline-admin tearline-audit tearline-certs tearline-label
        RUNTIME DESTINATION "${CMAKE_INSTALL_BINDIR}" COMPONENT tools)

install(FILES "${PROJECT_SOURCE_DIR}/deploy/policy/coalition.toml"
        DESTINATION "${TEARLINE_INSTALL_SHAREDIR}/policy" COMPONENT tools)
install(FILES "${PROJECT_SOURCE_DIR}/deploy/config/broker.toml"
              "${PROJECT_SOURCE_DIR}/deploy/config/node.toml"
        DESTINATION "${TEARLINE_INSTALL_SHAREDIR}/examples" COMPONENT tools)
install(FILES "${PROJECT_SOURCE_DIR}/deploy/systemd/tearline-broker.service"
        DESTINATION "${TEARLINE_INSTALL_UNITDIR}" COMPONENT broker)
install(FILES "${PROJECT_SOURCE_DIR}/deploy/systemd/tearline-node@.service"
        DESTINATION "${TEARLINE_INSTALL_UNITDIR}" COMPONENT node)

# Man pages: each program's --help text in a man(7) page, gzipped, written after the program is
# linked (cmake/TearlineManPage.cmake).
set(_tearline_man_programs
    "tearline-broker:broker" "tearline-node:node" "tearline-admin:tools" "tearline-audit:tools"
    "tearline-certs:tools" "tearline-label:tools")
foreach(entry IN LISTS _tearline_man_programs)
  string(REPLACE ":" ";" entry "${entry}")
  list(GET entry 0 program)
  list(GET entry 1 component)
  set(page "${PROJECT_BINARY_DIR}/man/${program}.1.gz")
  add_custom_command(
    OUTPUT "${page}"
    COMMAND "${CMAKE_COMMAND}" -DPROGRAM=$<TARGET_FILE:${program}> -DNAME=${program}
            -DVERSION=${PROJECT_VERSION} -DOUT=${page}
            -P "${PROJECT_SOURCE_DIR}/cmake/TearlineManPage.cmake"
    DEPENDS ${program} "${PROJECT_SOURCE_DIR}/cmake/TearlineManPage.cmake"
    COMMENT "man page ${program}.1"
    VERBATIM)
  add_custom_target(${program}-man ALL DEPENDS "${page}")
  install(FILES "${page}" DESTINATION "${CMAKE_INSTALL_MANDIR}/man1" COMPONENT ${component})
endforeach()

# The library for other C++ programs: tearline::core and the layers it is made of.
set(_tearline_core_layers base crypto labels identity envelope wire tlog audit)
set(_tearline_export_targets tearline_core tearline_schemas)
foreach(layer IN LISTS _tearline_core_layers)
  list(APPEND _tearline_export_targets tearline_${layer})
  install(DIRECTORY "${PROJECT_SOURCE_DIR}/core/${layer}/include/"
          DESTINATION "${CMAKE_INSTALL_INCLUDEDIR}" COMPONENT dev)
endforeach()
install(FILES ${TEARLINE_GENERATED_HEADERS}
        DESTINATION "${CMAKE_INSTALL_INCLUDEDIR}/tearline/schemas" COMPONENT dev)
install(TARGETS ${_tearline_export_targets} EXPORT TearlineTargets
        ARCHIVE DESTINATION "${CMAKE_INSTALL_LIBDIR}" COMPONENT dev)
install(EXPORT TearlineTargets NAMESPACE tearline:: DESTINATION "${TEARLINE_INSTALL_CMAKEDIR}"
        COMPONENT dev)
configure_package_config_file("${PROJECT_SOURCE_DIR}/cmake/TearlineConfig.cmake.in"
                              "${PROJECT_BINARY_DIR}/TearlineConfig.cmake"
                              INSTALL_DESTINATION "${TEARLINE_INSTALL_CMAKEDIR}")
write_basic_package_version_file("${PROJECT_BINARY_DIR}/TearlineConfigVersion.cmake"
                                 COMPATIBILITY SameMinorVersion)
install(FILES "${PROJECT_BINARY_DIR}/TearlineConfig.cmake"
              "${PROJECT_BINARY_DIR}/TearlineConfigVersion.cmake"
        DESTINATION "${TEARLINE_INSTALL_CMAKEDIR}" COMPONENT dev)
