"""normbench: measure how normalization layers behave across batch size, epsilon and momentum.

Importing this package is cheap: TensorFlow is imported only by ``bench.measure``, which the
runner loads when a case actually trains.
"""

__version__ = "0.1.0"
