"""STUB: being written (joints ⇄ 623-dim features)."""
def feature_layout(num_joints): raise NotImplementedError
def joints_to_features(*a, **k): raise NotImplementedError
def features_to_joints(*a, **k): raise NotImplementedError
