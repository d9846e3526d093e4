# Inception v3: parity with torchvision (see tests/models/CMakeLists.txt). 299 is its minimum: training mode
# runs AuxLogits, which needs Mixed_6e's full 17x17 grid. The TRAIN case compares the main and auxiliary logits
# (dropout 0.5 with a shared seed) with both heads (fc, AuxLogits.fc) replaced for 10 classes.
ftbench_add_parity_test(inception_v3 299)
ftbench_add_parity_test(inception_v3 299 TRAIN CLASSES 10)
