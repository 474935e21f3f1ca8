"""The part of normbench that imports Keras and a framework: build, train, evaluate and time one case."""
