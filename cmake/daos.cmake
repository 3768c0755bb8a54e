# Helpers shared by every module's CMakeLists.txt.

# d_unit_test(NAME SOURCES src... [LIBS lib...] [LABELS label...] [TIMEOUT s])
# Builds a test program and registers it with ctest. Every test gets the label `unit`
# unless LABELS says otherwise.
function(d_unit_test name)
  cmake_parse_arguments(T "" "TIMEOUT" "SOURCES;LIBS;LABELS" ${ARGN})
  add_executable(${name} ${T_SOURCES})
  target_link_libraries(${name} PRIVATE ${T_LIBS} PkgConfig::CMOCKA Threads::Threads)
  add_test(NAME ${name} COMMAND ${name})
  if(NOT T_LABELS)
    set(T_LABELS unit)
  endif()
  if(NOT T_TIMEOUT)
    set(T_TIMEOUT 120)
  endif()
  set_tests_properties(${name} PROPERTIES LABELS "${T_LABELS}" TIMEOUT ${T_TIMEOUT}
                       SKIP_RETURN_CODE 77)
endfunction()

# d_shared_lib(TARGET OUTPUT_NAME SOVERSION MAP OBJECTS obj_target [LIBS ...] [DESC text])
# Builds a shared library from an object library, exporting only what the version script
# lists, and installs it with a pkg-config file (PC_REQUIRES_PUBLIC: libraries an application
# linking this one must link too, because this one's symbols resolve against them).
function(d_shared_lib target)
  cmake_parse_arguments(L "" "OUTPUT_NAME;SOVERSION;MAP;DESC;PC_REQUIRES;PC_REQUIRES_PUBLIC"
                        "OBJECTS;LIBS" ${ARGN})
  add_library(${target} SHARED $<TARGET_OBJECTS:${L_OBJECTS}>)
  set_target_properties(${target} PROPERTIES OUTPUT_NAME ${L_OUTPUT_NAME}
                        SOVERSION ${L_SOVERSION} VERSION ${L_SOVERSION}.${PROJECT_VERSION_MINOR}.0
                        LINK_DEPENDS ${L_MAP})
  target_link_options(${target} PRIVATE -Wl,--version-script=${L_MAP} -Wl,--no-undefined)
  target_link_libraries(${target} PRIVATE ${L_LIBS})
  install(TARGETS ${target} LIBRARY DESTINATION ${D_LIBDIR})
  set(PC_NAME ${L_OUTPUT_NAME})
  set(PC_DESC "${L_DESC}")
  set(PC_REQUIRES "${L_PC_REQUIRES}")
  set(PC_REQUIRES_PUBLIC "${L_PC_REQUIRES_PUBLIC}")
  configure_file(${PROJECT_SOURCE_DIR}/cmake/lib.pc.in ${CMAKE_CURRENT_BINARY_DIR}/${L_OUTPUT_NAME}.pc @ONLY)
  install(FILES ${CMAKE_CURRENT_BINARY_DIR}/${L_OUTPUT_NAME}.pc DESTINATION ${D_LIBDIR}/pkgconfig)
endfunction()
