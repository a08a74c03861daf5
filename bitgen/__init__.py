__version__ = "0.1.0"

def __getattr__(name):
    "Lazy top-level API (PEP 562): `from bitgen import BitGen, BitGenModel` without importing torch on `import bitgen`."
    if name in ('BitGenModel', 'BitGenConfig'):
        from bitgen import model
        return getattr(model, name)
    if name == 'BitGen':
        from bitgen.api import BitGen
        return BitGen
    raise AttributeError(f"module 'bitgen' has no attribute {name!r}")
