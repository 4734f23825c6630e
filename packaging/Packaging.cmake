# SPDX-License-Identifier: GPL-3.0-or-later
# Installation and the Debian package: `cpack -G DEB` from the build folder (see
# tests/packaging/test-deb.sh, which builds, inspects and runs it).

# Desktop integration: entry, icon, AppStream metadata.
set(MODE_APP_ID io.github.mode_workbench.ModeWorkbench)
if(MODE_BUILD_GUI)
  install(FILES ${PROJECT_SOURCE_DIR}/packaging/${MODE_APP_ID}.desktop DESTINATION share/applications)
  install(FILES ${PROJECT_SOURCE_DIR}/packaging/${MODE_APP_ID}.metainfo.xml DESTINATION share/metainfo)
  install(FILES ${PROJECT_SOURCE_DIR}/resources/icons/mode-workbench.svg
          DESTINATION share/icons/hicolor/scalable/apps RENAME ${MODE_APP_ID}.svg)
endif()

# Man pages, made from each tool's --help and --version by help2man (Debian's help2man).
find_program(HELP2MAN help2man)
if(HELP2MAN)
  set(MODE_MAN_TOOLS mode-train mode-runs mode-sweep mode-predict)
  if(MODE_BUILD_GUI)
    list(APPEND MODE_MAN_TOOLS mode-workbench mode-report)
  endif()
  # Each page's NAME line: help2man writes "<tool> \- <this>", so this names what the tool does.
  set(MODE_MAN_NAME_mode-train "train one MoDE experiment headless")
  set(MODE_MAN_NAME_mode-runs "list, show, compare, export and check the runs of a store")
  set(MODE_MAN_NAME_mode-sweep "run a grid of experiments (alphas x seeds) into a store")
  set(MODE_MAN_NAME_mode-predict "predict new rows with a stored run's model")
  set(MODE_MAN_NAME_mode-workbench "the MoDE Workbench desktop application")
  set(MODE_MAN_NAME_mode-report "write the reproduction report of a store's sweep runs")
  set(pages)
  foreach(tool ${MODE_MAN_TOOLS})
    set(page ${PROJECT_BINARY_DIR}/man/${tool}.1)
    add_custom_command(OUTPUT ${page}.gz
      COMMAND ${CMAKE_COMMAND} -E make_directory ${PROJECT_BINARY_DIR}/man
      COMMAND ${CMAKE_COMMAND} -E env QT_QPA_PLATFORM=offscreen
              ${HELP2MAN} --no-info --no-discard-stderr --section 1 --source "MoDE Workbench ${PROJECT_VERSION}"
              --name "${MODE_MAN_NAME_${tool}}" --output ${page} $<TARGET_FILE:${tool}>
      COMMAND gzip -9nf ${page}
      DEPENDS ${tool}
      COMMENT "Man page of ${tool}"
      VERBATIM)
    list(APPEND pages ${page}.gz)
  endforeach()
  add_custom_target(man-pages ALL DEPENDS ${pages})
  install(FILES ${pages} DESTINATION share/man/man1)
else()
  message(STATUS "help2man not found: no man pages (apt-get install help2man)")
endif()

# GPL-3.0-or-later: the workbench links QCustomPlot (GPL-3.0).
set(CPACK_RESOURCE_FILE_LICENSE ${PROJECT_SOURCE_DIR}/LICENSE)
install(FILES ${PROJECT_SOURCE_DIR}/packaging/copyright DESTINATION share/doc/mode-workbench)
set(CPACK_PACKAGE_NAME "mode-workbench")
set(CPACK_PACKAGE_VENDOR "MoDE Workbench")
set(CPACK_PACKAGE_CONTACT "MoDE Workbench maintainers <maintainers@mode-workbench.invalid>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "${PROJECT_DESCRIPTION}")
set(CPACK_PACKAGE_DESCRIPTION "Trains Mixture-of-Experts models with mutual distillation among the experts (MoDE)
 on LibTorch, live in a Qt 6 workbench or headless (mode-train, mode-sweep, mode-runs, mode-predict, mode-report);
 every run is stored in SQLite and stored runs are compared side by side.")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_DEBIAN_PACKAGE_SECTION science)
# The libraries the programs link are found by dpkg-shlibdeps; what is loaded at run time
# without being linked is named here: OpenBLAS (LibTorch's BLAS through the alternatives),
# Qt's platform plugins (xcb, offscreen) and its SVG icon engine (the window icon, SVG export).
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_DEPENDS "libopenblas0")
if(MODE_BUILD_GUI)
  # libqt6svg6 (its icon engine plugin) and QCustomPlot are linked, so shlibdeps names them.
  string(APPEND CPACK_DEBIAN_PACKAGE_DEPENDS ", qt6-qpa-plugins")
endif()
set(CPACK_DEBIAN_PACKAGE_RECOMMENDS "dataset-fashion-mnist, sqlite3")
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
include(CPack)
