# CPack: `cpack -G DEB` from the build folder.
set(CPACK_PACKAGE_NAME "mode-workbench")
set(CPACK_PACKAGE_VENDOR "MoDE Workbench")
set(CPACK_PACKAGE_CONTACT "MoDE Workbench maintainers <maintainers@mode-workbench.invalid>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "${PROJECT_DESCRIPTION}")
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_DEPENDS "libopenblas0")
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
include(CPack)
