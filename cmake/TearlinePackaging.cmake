# Debian packages, one per install component (`cpack -G DEB` in the build directory):
#   tearline-broker  the broker daemon and its systemd unit; creates the system user tearline-broker
#   tearline-node    the node daemon/client and tearline-node@.service; creates the user tearline-node
#   tearline-tools   tearline-certs, -label, -audit, -admin, the shipped policy, example configs
# Broker and node depend on the tools package of the same version (the policy and tearline-certs
# come from it). Library dependencies come from dpkg-shlibdeps. Binaries are stripped.
set(CPACK_PACKAGE_NAME tearline)
set(CPACK_PACKAGE_VENDOR "Tearline")
set(CPACK_PACKAGE_CONTACT "Tearline maintainers <maintainers@tearline.invalid>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY
    "label-enforced, end-to-end encrypted exchange of intelligence reports")
set(CPACK_PACKAGE_VERSION "${PROJECT_VERSION}")
set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_STRIP_FILES ON)
set(CPACK_DEB_COMPONENT_INSTALL ON)
set(CPACK_COMPONENTS_ALL broker node tools)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_RELEASE 1)
set(CPACK_DEBIAN_PACKAGE_SECTION net)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
set(CPACK_DEBIAN_ENABLE_COMPONENT_DEPENDS ON)
set(CPACK_COMPONENT_BROKER_DEPENDS tools)
set(CPACK_COMPONENT_NODE_DEPENDS tools)

set(_tearline_debian "${PROJECT_SOURCE_DIR}/deploy/debian")
set(CPACK_DEBIAN_BROKER_PACKAGE_DEPENDS "adduser")
set(CPACK_DEBIAN_NODE_PACKAGE_DEPENDS "adduser")
set(CPACK_DEBIAN_BROKER_PACKAGE_CONTROL_EXTRA
    "${_tearline_debian}/broker/postinst;${_tearline_debian}/broker/postrm")
set(CPACK_DEBIAN_NODE_PACKAGE_CONTROL_EXTRA
    "${_tearline_debian}/node/postinst;${_tearline_debian}/node/postrm")
set(CPACK_DEBIAN_BROKER_DESCRIPTION
    "Tearline broker: routes sealed reports between national nodes
 The broker admits certified national nodes over CurveZMQ, routes each
 sealed report portion only to the nations its label releases it to, and
 keeps a signed, append-only audit log that the nodes witness.")
set(CPACK_DEBIAN_NODE_DESCRIPTION
    "Tearline national node: daemon and analyst client
 A node seals reports portion by portion for the nations each portion is
 releasable to, exchanges them through the broker, keeps its inbox and
 witnesses the broker's audit log.")
set(CPACK_DEBIAN_TOOLS_DESCRIPTION
    "Tearline tools, coalition policy and example configurations
 tearline-certs (root key and certificates), tearline-label (markings),
 tearline-audit (verifying the broker's audit log) and tearline-admin,
 with the shipped coalition policy and example broker and node configs.")

# Every package carries its copyright file and Debian changelog (gzipped reproducibly).
set(_tearline_changelog "${PROJECT_BINARY_DIR}/debian/changelog.Debian.gz")
add_custom_command(
  OUTPUT "${_tearline_changelog}"
  COMMAND "${CMAKE_COMMAND}" -E make_directory "${PROJECT_BINARY_DIR}/debian"
  COMMAND sh -c "gzip -9 -n -c \"$0\" > \"$1\"" "${_tearline_debian}/changelog"
          "${_tearline_changelog}"
  DEPENDS "${_tearline_debian}/changelog"
  VERBATIM)
add_custom_target(tearline-debian-changelog ALL DEPENDS "${_tearline_changelog}")
foreach(component IN ITEMS broker node tools)
  install(FILES "${_tearline_debian}/copyright" "${_tearline_changelog}"
          DESTINATION "${CMAKE_INSTALL_DATAROOTDIR}/doc/tearline-${component}" COMPONENT ${component})
endforeach()

include(CPack)
