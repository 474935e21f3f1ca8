"""Keras layers normbench writes itself (TensorFlow code): the reference implementations the kinds'
``implementation: reference`` builds, BatchNorm with frozen statistics, and the tensorflow-addons bridge.
Imported only by a kind's builder, in a worker, never at registry discovery."""
