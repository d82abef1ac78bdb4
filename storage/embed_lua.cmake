# Writes a C++ source defining one `const std::string <name>_lua` per Lua script, the text of
# storage/lua/<name>.lua verbatim (storage/scripts.hpp declares them). Run by storage/CMakeLists.txt
# at build time, so editing a script rebuilds the library without re-running CMake.
#   cmake -DOUT=<file.cpp> -DSCRIPTS=<a.lua;b.lua> -P embed_lua.cmake
set(text "// Generated from storage/lua/*.lua by storage/embed_lua.cmake: edit the .lua files.\n")
string(APPEND text "#include \"storage/scripts.hpp\"\n\nnamespace luffy {\n")
foreach(script IN LISTS SCRIPTS)
  get_filename_component(name "${script}" NAME_WE)
  file(READ "${script}" body)
  string(FIND "${body}" ")luffy_lua\"" clash)
  if(NOT clash EQUAL -1)
    message(FATAL_ERROR "${script} contains the raw-string delimiter )luffy_lua\"")
  endif()
  string(APPEND text "\nconst std::string ${name}_lua = R\"luffy_lua(${body})luffy_lua\";\n")
endforeach()
string(APPEND text "\n}  // namespace luffy\n")
# Only replace the file when it changes: an unchanged script must not recompile anything.
file(WRITE "${OUT}.tmp" "${text}")
file(COPY_FILE "${OUT}.tmp" "${OUT}" ONLY_IF_DIFFERENT)
file(REMOVE "${OUT}.tmp")
