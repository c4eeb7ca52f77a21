"""The predictor zoo: accuracy predictors for Blox models behind one interface.

>>> import predictors
>>> predictors.available()
['additive', 'brp', 'ensemble', 'flops', 'gcn', 'gin', 'linear_signatures', 'mlp', 'params']
>>> p = predictors.make("additive").fit(train_ids, y_train)
>>> p.rank(candidate_ids)[:10]

See ``docs/predictors.md``.
"""

from predictors import baselines, brp, ensemble, gnn, linear, mlp  # noqa: F401  (registration)
from predictors.base import Predictor, available, load, make, register
from predictors.dataset import BloxGraphDataset

__all__ = ["BloxGraphDataset", "Predictor", "available", "load", "make", "register"]
