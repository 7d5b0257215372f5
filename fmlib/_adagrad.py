"""Compiled kernel: one epoch of SGD with per-coordinate AdaGrad steps.

The same model, losses, sample order and lazy L2 penalty as
``fmlib._kernels.sgd_epoch`` (see there); only the step differs. Each
parameter ``theta`` keeps the sum ``G`` of its squared stochastic gradients
(Duchi, Hazan and Singer, 2011; xLearn's default), and a step is

.. math:: G \\leftarrow G + g^2, \\qquad \\theta \\leftarrow \\theta - \\eta\\, g / \\sqrt{G}.

``|g| / sqrt(G) <= 1``, so no step moves a parameter by more than the
learning rate ``eta``, however large the features or the targets: this is
what keeps training finite on unscaled data, where a constant step's move
grows with the square of the features' scale. A coordinate whose gradient
has always been zero (``G == 0``) does not move.

``G`` is fitted state: it is passed in and updated in place, so that a
``warm_start`` fit or the next ``partial_fit`` continues with the steps
where they were.
"""

import numpy as np

from ._jit import njit
from ._kernels import _loss_and_slope, predict_row


@njit(cache=True)
def _adagrad_step(theta, gradient, accumulator, learning_rate):
    """Return the new ``(theta, accumulator)`` of one AdaGrad step."""
    accumulator += gradient * gradient
    if accumulator > 0.0:
        theta -= learning_rate * gradient / np.sqrt(accumulator)
    return theta, accumulator


@njit(cache=True)
def adagrad_epoch(data, indptr, indices, y, sample_weight, order, w0, w, V,
                  acc_w0, acc_w, acc_V, learning_rate, reg_linear, reg_factors,
                  fit_intercept, loss_kind):
    """One epoch of AdaGrad SGD over the rows of a CSR matrix, in the given order.

    Parameters
    ----------
    data, indptr, indices : ndarray
        The training matrix in canonical CSR form.
    y, sample_weight : ndarray of shape (n_samples,)
    order : ndarray of int
        The rows to visit, in order.
    w0 : float
        Intercept (returned, not updated in place).
    w : ndarray of shape (n_features,)
    V : ndarray of shape (n_features, n_factors), C-contiguous
    acc_w0 : ndarray of shape (1,)
        Sum of the intercept's squared gradients (in place).
    acc_w : ndarray of shape (n_features,)
        Those of ``w`` (in place).
    acc_V : ndarray of shape (n_features, n_factors)
        Those of ``V`` (in place).
    learning_rate, reg_linear, reg_factors : float
    fit_intercept : bool
    loss_kind : int
        ``SQUARED`` or ``LOGISTIC`` from ``fmlib._kernels``.

    Returns
    -------
    w0 : float
        The updated intercept.
    weighted_loss : float
        Sum over the visited samples of ``sample_weight * loss``, each loss
        evaluated just before that sample's update.
    n_done : int
        Samples processed; less than ``len(order)`` when a prediction became
        non-finite (the epoch stops before that sample updates anything).
    """
    n_factors = V.shape[1]
    sums = np.empty(n_factors)
    weighted_loss = 0.0
    for n_done in range(order.shape[0]):
        i = order[n_done]
        start = indptr[i]
        stop = indptr[i + 1]
        y_hat = predict_row(data, indices, start, stop, w0, w, V, sums)
        if not np.isfinite(y_hat):
            return w0, weighted_loss, n_done
        loss, slope = _loss_and_slope(loss_kind, y_hat, y[i])
        weighted_loss += sample_weight[i] * loss
        g = sample_weight[i] * slope
        if fit_intercept:
            w0, acc_w0[0] = _adagrad_step(w0, g, acc_w0[0], learning_rate)
        for p in range(start, stop):
            j = indices[p]
            x = data[p]
            w[j], acc_w[j] = _adagrad_step(w[j], g * x + reg_linear * w[j], acc_w[j],
                                           learning_rate)
            gx = g * x
            for f in range(n_factors):
                v = V[j, f]
                # the gradient uses sums[f] of the prediction, like sgd_epoch
                V[j, f], acc_V[j, f] = _adagrad_step(
                    v, gx * (sums[f] - v * x) + reg_factors * v, acc_V[j, f], learning_rate)
    return w0, weighted_loss, order.shape[0]
