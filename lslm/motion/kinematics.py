"""STUB: being written (SMPL-X params → joints)."""
def smplx_to_joints(*a, **k): raise NotImplementedError
def default_rest_skeleton(): raise NotImplementedError
