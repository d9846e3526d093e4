// Translation unit that owns ftbench's shared LibTorch precompiled header (see cmake/FtbenchTorch.cmake).
