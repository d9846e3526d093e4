# Swin Transformer: parity with torchvision (see tests/models/CMakeLists.txt). The minimum input is 4, but
# at 32 stage 1 is 8x8: larger than a 7x7 window, so the padding, the cyclic shift and its attention mask
# run. TRAIN draws the stochastic-depth masks from the shared seed.
ftbench_add_parity_test(swin_t 32)
ftbench_add_parity_test(swin_t 32 TRAIN CLASSES 10)
