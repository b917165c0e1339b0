# freestanding.cmake - nestlab_freestanding(): one way to build a
# freestanding image (nesthv, the guest kernels, the boot and device test
# kernels), included by the top-level CMakeLists.txt before any of them.
#
#   nestlab_freestanding(TARGET OUTPUT file.elf LDSCRIPT script
#       [MODEL kernel|small|m32] [NOLIB] [OPTIONS flag...] SOURCES src...)
#
# Built with the host gcc but without the host's C library, start files or
# position-independent code; the result lands in ${CMAKE_BINARY_DIR}/images.
#   MODEL kernel  64-bit, runs in the top 2 GiB (-mcmodel=kernel): nesthv
#   MODEL small   64-bit, runs low (-mcmodel=small): guests, test kernels
#   MODEL m32     32-bit protected mode (tests/devices)
# Unless NOLIB, the support library (freestanding/: memset & co., the
# formatter, command-line words) is compiled into the image; its headers
# (fs_lib.h, and fs_regs.h for .S files) are on the include path either way.
# The 64-bit library is not built for m32 (its formatter divides 64-bit
# numbers, which 32-bit code does through libgcc, which images do not link).
#
# Host-only options (the sanitizers of NESTLAB_SANITIZE, added with
# add_link_options) must not reach these images: the target's inherited
# LINK_OPTIONS are cleared.
set(NESTLAB_FREESTANDING_DIR ${CMAKE_CURRENT_LIST_DIR})
set(NESTLAB_FREESTANDING_FLAGS
    -ffreestanding -fno-pic -fno-pie -fno-stack-protector -fno-builtin
    -mno-red-zone -mgeneral-regs-only -fno-asynchronous-unwind-tables
    -O2 -g -Wall -Wextra -Werror -std=gnu11)

function(nestlab_freestanding target)
  cmake_parse_arguments(F "NOLIB" "OUTPUT;LDSCRIPT;MODEL" "OPTIONS;SOURCES" ${ARGN})
  if(NOT F_MODEL)
    set(F_MODEL small)
  endif()
  set(srcs ${F_SOURCES})
  if(NOT F_NOLIB AND NOT F_MODEL STREQUAL "m32")
    list(APPEND srcs ${NESTLAB_FREESTANDING_DIR}/string.c
         ${NESTLAB_FREESTANDING_DIR}/cmdline.c ${NESTLAB_FREESTANDING_DIR}/format.c)
  endif()
  add_executable(${target} ${srcs})
  set_target_properties(${target} PROPERTIES OUTPUT_NAME ${F_OUTPUT} SUFFIX ""
      RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/images
      LINK_DEPENDS ${F_LDSCRIPT} LINK_OPTIONS "")
  target_include_directories(${target} PRIVATE ${NESTLAB_FREESTANDING_DIR}/include)
  if(F_MODEL STREQUAL "m32")
    set(model -m32)
  else()
    set(model -mcmodel=${F_MODEL})
  endif()
  target_compile_options(${target} PRIVATE ${NESTLAB_FREESTANDING_FLAGS} ${model} ${F_OPTIONS})
  if(F_MODEL STREQUAL "m32")
    target_link_options(${target} PRIVATE -m32)
  endif()
  target_link_options(${target} PRIVATE -nostdlib -static -no-pie
      -Wl,-T,${F_LDSCRIPT} -Wl,-z,max-page-size=0x1000 -Wl,-z,noexecstack
      -Wl,--build-id=none -Wl,--no-warn-rwx-segments)
endfunction()
