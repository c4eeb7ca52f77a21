"""Neural network modules of the predictor zoo, one per file."""

from predictors.nn.brp_conv import BRPConv
from predictors.nn.comparator import PairwiseComparator
from predictors.nn.gcn import BRPGCN
from predictors.nn.gin import GIN

__all__ = ["BRPConv", "BRPGCN", "GIN", "PairwiseComparator"]
