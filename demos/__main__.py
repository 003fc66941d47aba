"""`python -m demos main`: the main job (for now: a scalar expression and its gradients)."""

import engine


def main() -> None:
    a = engine.tensor(-4.0, requires_grad=True, name="a")
    b = engine.tensor(2.0, requires_grad=True, name="b")
    c = a + b
    d = a * b + b**3
    e = (c - d) ** 2 / 2.0 + 10.0 / (c - d) ** 2
    e.backward()
    print(f"e = {e.item():.4f}   de/da = {a.grad.item():.4f}   de/db = {b.grad.item():.4f}")


if __name__ == "__main__":
    main()
