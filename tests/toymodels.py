"""Small models written for the tests of the generated module (not the paper's).

``TWO_FIELDS``: two complex scalars, each with its own U(1) softly broken to Z_2 by a
``s^2`` term; the parameter names are those a generated module must not trip over (np,
size, vevs, phi, sum, start; ``lambda`` is a declared constant that no formula uses, since
the formula parser refuses Python keywords). At the point ``p`` the two sectors repel
(start > 2 sqrt(np sum / 4)): V has two minima, (v_1, 0) and (0, v_2), of different depth.
``CUBIC``: one complex scalar with a Z_3, so a cubic coupling (GeV) and a quartic one.
"""

from __future__ import annotations

import importlib.util

TWO_FIELDS = """
[derivation]
name = "twofields"
degree = 4

[symmetries.Ua]
group = "U1"
[symmetries.Ub]
group = "U1"

[[scalars]]
name = "s1"
label = "1"
charges = { Ua = "1", Ub = "0" }

[[scalars]]
name = "s2"
label = "2"
charges = { Ua = "0", Ub = "1" }

[parameters]
size = { kind = "mass" }
vevs = { kind = "mass" }
phi = { kind = "mass" }
np = {}
sum = {}
start = {}
lambda = { unit = "dimensionless", note = "a constant that no formula uses" }

[[terms]]
operator = "s1† s1"
coefficient = "size^2"
[[terms]]
operator = "s2† s2"
coefficient = "vevs^2"
[[terms]]
operator = "(s1† s1)^2"
coefficient = "np"
[[terms]]
operator = "(s2† s2)^2"
coefficient = "sum"
[[terms]]
operator = "(s1† s1) (s2† s2)"
coefficient = "start"
[[terms]]
operator = "s1^2"
coefficient = "phi^2"
explicit_breaking = ["Ua"]
reason = "soft breaking: isolated minima"
[[terms]]
operator = "s2^2"
coefficient = "phi^2/4"
explicit_breaking = ["Ub"]
reason = "soft breaking: isolated minima"

[points.p]
size = 100
vevs = 150
phi = 10
np = 0.5
sum = 1
start = 4
lambda = 0.25
"""

CUBIC = """
[derivation]
name = "cubic"
degree = 4

[symmetries.Z3]
group = "Z3"

[[scalars]]
name = "s"
label = "s"
charges = { Z3 = "1" }

[parameters]
m = { kind = "mass" }
k = {}
l = {}

[[terms]]
operator = "s† s"
coefficient = "m^2"
[[terms]]
operator = "s^3"
coefficient = "k"
[[terms]]
operator = "(s† s)^2"
coefficient = "l"

[points.p]
m = 50
k = 20
l = 0.7
"""


def write_model(folder, text, **replace):
    """The model text (with ``old=new`` replacements) as ``folder/model.toml``; returns the folder."""
    for old, new in replace.items():
        text = text.replace(old, new)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "model.toml").write_text(text, encoding="utf-8")
    return folder


def derive(folder, until="mass_matrices"):
    from symflav import pipeline
    from symflav.core import spec

    model = spec.load(str(folder))
    return model, pipeline.run(model, until=until)


def load(path, name):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def generated(folder, name, until="mass_matrices", **options):
    """The generated module of the model in ``folder`` (written there and imported)."""
    from symflav.codegen.assemble import numeric_module

    model, derivation = derive(folder, until)
    path = folder / f"{name}.py"
    path.write_text(numeric_module(model, derivation.results, **options).source, encoding="utf-8")
    return load(path, name)
