"""Policy profiles: load, validate, change for what-ifs, compile to lookup tables."""

from .profile import Policy, Profile, builtin_profiles, load_policy

__all__ = ["Policy", "Profile", "builtin_profiles", "load_policy"]
