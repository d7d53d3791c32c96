"""Stand-ins for the tadpole and mass-matrix stages of another branch, derived here by hand.

They follow INTERFACES.md (``tadpoles.general``, ``mass_matrices.M_S2_vacuum``...) and are
computed by the most direct route: differentiating the real potential of eq. (A.1) with
sympy, imposing the relations and alignment, and eliminating mu_1^2, mu_a^2 with the
tadpoles. They let the compare stage run on the appendix-A matrices before the real
stages are merged, and give the errata of A.5 and A.6 an independent derivation.
"""

from __future__ import annotations

from types import SimpleNamespace

import sympy as sp

from symflav import pipeline


def derive(model, real):
    zero = {s: 0 for s in real.components}
    general = tuple(sp.expand(sp.diff(real.expr, s).subs(zero)) for s in real.sigma)
    relations, alignment = model.relation_map(), dict(model.vacuum.alignment)
    symbols = model.symbols()

    def impose(e):
        for _ in range(4):
            e = e.xreplace(relations)
        return sp.expand(e).xreplace(alignment)

    imposed = [sp.expand(impose(t)) for t in general]
    (solution,) = sp.solve([imposed[0], imposed[2]], [symbols["mu_1"] ** 2, symbols["mu_a"] ** 2], dict=True)
    factor = model.conventions.mass_matrix_factor

    def matrix(components):
        return sp.Matrix(4, 4, lambda i, j: sp.expand(
            impose(factor * sp.diff(real.expr, components[i], components[j]).subs(zero)).subs(solution)))

    tadpoles = SimpleNamespace(vevs=real.vevs, general=general, imposed=tuple(imposed), eliminated=(),
                               stationary_points=())
    def general_matrix(components):
        return sp.Matrix(4, 4, lambda i, j: sp.expand(factor * sp.diff(real.expr, components[i], components[j]).subs(zero)))

    masses = SimpleNamespace(M_S2_vacuum=matrix(real.sigma), M_P2_vacuum=matrix(real.varphi),
                             M_S2=general_matrix(real.sigma), M_P2=general_matrix(real.varphi))
    return tadpoles, masses


def install(monkeypatch):
    """Insert the stand-in stages into the pipeline (undone by ``monkeypatch``)."""
    cache = {}

    def both(model, results):
        key = (model.conventions, model.charge_overrides)
        if key not in cache:
            cache[key] = derive(model, results["real_potential"])
        return cache[key]

    stages = list(pipeline.STAGES)
    at = [s.name for s in stages].index("real_potential") + 1
    stages[at:at] = [
        pipeline.Stage("tadpoles", lambda m, r: both(m, r)[0], lambda x: 0, "stand-in tadpoles"),
        pipeline.Stage("mass_matrices", lambda m, r: both(m, r)[1], lambda x: 0, "stand-in mass matrices"),
    ]
    monkeypatch.setattr(pipeline, "STAGES", stages)
