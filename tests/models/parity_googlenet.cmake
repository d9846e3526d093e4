# GoogLeNet: parity with torchvision (see tests/models/CMakeLists.txt) at its minimum input, 15 (the aux heads
# pool to a fixed 4x4 grid, so training mode has no larger limit). The TRAIN case compares the main logits and
# aux1, aux2 (dropout 0.7 in each aux head, 0.2 in the main head, drawn in torchvision's order).
ftbench_add_parity_test(googlenet 15)
ftbench_add_parity_test(googlenet 15 TRAIN)
