"""Time to accuracy: when a case's held-out accuracy first reaches the suite's ``quality_target``.

MLPerf Training judges a system by the time it takes to reach a quality target, evaluated every
few epochs; a user choosing between a slower but more accurate normalizer and a faster one needs
the same number. The accuracy is ``test_accuracy``'s (test set, inference mode), checked every
``eval_every`` epochs and after the last one. An inference-mode prediction reads the weights and
moving averages without changing them, so a case trains the same with a target as without one.

The time is not this phase's wall clock (on Ray it runs beside other cases): it is the steps taken
times the median train-step time that the timing phase measures alone (:func:`time_to_target`).
"""

from __future__ import annotations

from bench.core import metrics


class QualityTarget:
    """An ``after_epoch`` callback of a trainer's ``fit`` that evaluates held-out accuracy on its
    schedule and remembers the first evaluation at or above ``target``."""

    def __init__(self, trainer, x_test, y_test, target: float, every: int, epochs: int, steps_per_epoch: int,
                 eval_batch: int):
        self.trainer, self.x_test, self.y_test = trainer, x_test, y_test
        self.target, self.every, self.epochs = target, every, epochs
        self.steps_per_epoch, self.eval_batch = steps_per_epoch, eval_batch
        self.evaluations: list[dict] = []
        self.reached: dict | None = None

    def __call__(self, epoch: int) -> None:
        done = epoch + 1
        if done % self.every and done != self.epochs:
            return
        accuracy = metrics.accuracy(self.trainer.predict(self.x_test, self.eval_batch, False), self.y_test)
        evaluation = {"epoch": done, "step": done * self.steps_per_epoch, "accuracy": accuracy}
        self.evaluations.append(evaluation)
        if self.reached is None and accuracy >= self.target:
            self.reached = evaluation

    def fields(self) -> dict:
        """The record's quality-target fields (time_to_target_seconds comes after timing)."""
        reached = self.reached or {}
        return {"quality_target": self.target, "target_reached": self.reached is not None,
                "steps_to_target": reached.get("step"), "epochs_to_target": reached.get("epoch"),
                "target_evaluations": list(self.evaluations)}


def time_to_target(record: dict) -> float | None:
    """``steps_to_target`` times the median timed train step; None when either is missing."""
    timing = record.get("train_step_seconds") or {}
    steps, median = record.get("steps_to_target"), timing.get("median")
    return None if steps is None or median is None else steps * median
