# Vision Transformer: parity with torchvision (see tests/models/CMakeLists.txt). ViT takes 224x224 only.
# Its dropout rates are 0, so TRAIN differs from eval in nothing but the mode flag; one case of each.
ftbench_add_parity_test(vit_b_16 224)
ftbench_add_parity_test(vit_b_16 224 TRAIN CLASSES 10)
