"""BatchNorm (Ioffe & Szegedy, 2015): batch statistics in training, moving averages in inference."""

from __future__ import annotations

from bench.core.params import Param, at_least, in_unit_interval
from bench.normalizers import EPSILON, NormalizerKind, register, tensorflow_implementation

# Batch Renormalization options, shared by the Keras BN and the reference BN (the paper's final
# clipping values; Keras 3.14+ and TF-Keras 2 both implement it).
RENORM = {
    "renorm": Param(bool, False, help="Batch Renormalization (Ioffe, 2017): batch statistics corrected "
                                      "towards the moving ones by r and d in training"),
    "renorm_rmax": Param(float, 3.0, at_least(1.0), help="r is clipped to [1/rmax, rmax] (the paper's final 3)"),
    "renorm_dmax": Param(float, 5.0, at_least(0.0), help="d is clipped to [-dmax, dmax] (the paper's final 5)"),
    "renorm_momentum": Param(float, 0.99, in_unit_interval,
                             help="Keras: decay of the statistics r and d are computed from (the paper and the "
                                  "reference BN use momentum for both)"),
}
MOMENTUM = Param(float, 0.99, in_unit_interval, help="moving-average decay (Keras default 0.99)")


def build(freeze_stats_after: int = 0, implementation: str = "keras", renorm: bool = False,
          renorm_rmax: float = 3.0, renorm_dmax: float = 5.0, renorm_momentum: float = 0.99,
          synchronized: bool = False, **options):
    import keras

    if synchronized:
        if implementation != "keras" or freeze_stats_after:
            raise ValueError("synchronized is keras.layers.BatchNormalization's option only (not the reference "
                             "BN or frozen statistics)")
        options["synchronized"] = True

    if renorm:
        if implementation == "reference":
            from bench.normalizers.keras_layers.reference_batch_norm import ReferenceBatchNormalization

            return ReferenceBatchNormalization(renorm=True, renorm_rmax=renorm_rmax, renorm_dmax=renorm_dmax,
                                               renorm_momentum=renorm_momentum, **options)
        options.update(renorm=True, renorm_momentum=renorm_momentum,
                       renorm_clipping={"rmax": renorm_rmax, "rmin": 1 / renorm_rmax, "dmax": renorm_dmax})
    if implementation == "reference":
        if freeze_stats_after:
            raise ValueError("freeze_stats_after is implemented for the Keras BatchNorm only")
        from bench.normalizers.keras_layers.reference_batch_norm import ReferenceBatchNormalization

        return ReferenceBatchNormalization(**options)
    if freeze_stats_after:
        from bench.normalizers.keras_layers.frozen_stats_batch_norm import FrozenStatsBatchNormalization

        return FrozenStatsBatchNormalization(freeze_stats_after, **options)
    return keras.layers.BatchNormalization(**options)


def unsupported(options: dict, backend: str) -> str | None:
    if options.get("synchronized"):
        return f"synchronized BatchNorm is Keras's TensorFlow-only option; backend {backend!r} cannot run it"
    if options.get("freeze_stats_after"):
        return f"freeze_stats_after is a TensorFlow layer; backend {backend!r} cannot run it"
    return tensorflow_implementation(options, backend)


KIND = register(NormalizerKind(
    "batch",
    {
        "momentum": MOMENTUM,
        "epsilon": EPSILON,
        "center": Param(bool, True),
        "scale": Param(bool, True),
        "freeze_stats_after": Param(int, 0, at_least(0),
                                    help="training steps after which BN normalizes with its moving averages "
                                         "and stops updating them (0: never)"),
        "implementation": Param(str, "keras", choices=("keras", "reference"),
                                help="keras.layers.BatchNormalization, or this project's reference BN"),
        "synchronized": Param(bool, False,
                              help="with replicas: statistics over the global batch (all replicas), not each "
                                   "replica's slice (Keras's synchronized BN, PyTorch's SyncBatchNorm)"),
        **RENORM,
    },
    "keras.layers.BatchNormalization: batch statistics in training, moving averages in inference",
    build, batch_statistics=True, moving_statistics=True, unsupported=unsupported))
