"""The predictor zoo: accuracy predictors for Blox models behind one interface.

>>> import predictors
>>> predictors.available()
['additive', 'brp', 'ensemble', 'flops', 'gcn', 'gin', 'linear_signatures', 'mlp', 'params',
 'sklearn']
>>> p = predictors.make("additive").fit(train_ids, y_train)
>>> p.rank(candidate_ids)[:10]

Predictor modules are imported on first use.  See ``docs/predictors.md``.
"""

from predictors.base import Predictor, available, load, make, predictor_class, register

_BUILT_IN = {
    "additive": "predictors.linear:AdditivePredictor",
    "brp": "predictors.brp:BRPPredictor",
    "ensemble": "predictors.ensemble:EnsemblePredictor",
    "flops": "predictors.baselines:FlopsPredictor",
    "gcn": "predictors.gnn:GCNPredictor",
    "gin": "predictors.gnn:GINPredictor",
    "linear_signatures": "predictors.linear:SignaturePredictor",
    "mlp": "predictors.mlp:MLPPredictor",
    "params": "predictors.baselines:ParamsPredictor",
    "sklearn": "predictors.sklearn_adapter:SklearnPredictor",
}
for _name, _entry_point in _BUILT_IN.items():
    register(_name, _entry_point)


def __getattr__(name: str):
    if name == "SklearnPredictor":  # imports scikit-learn, so only on use
        from predictors.sklearn_adapter import SklearnPredictor

        return SklearnPredictor
    if name == "features":  # imports blox_gym.costs tables, so only on use
        from predictors.feature_matrix import features

        return features
    if name == "BloxGraphDataset":  # imports torch-geometric, so only on use
        from predictors.dataset import BloxGraphDataset

        return BloxGraphDataset
    raise AttributeError(f"module 'predictors' has no attribute {name!r}")


__all__ = ["BloxGraphDataset", "Predictor", "SklearnPredictor", "features", "available", "load", "make", "predictor_class",
           "register"]
