"""The part of normbench that imports TensorFlow: build, train, evaluate and time one case."""
