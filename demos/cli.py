"""The `dagrad` command (also `python -m demos.cli`): draw, explain and step through graphs; run demos.

It lives in demos, the top floor of the house, because it may import everything below it (engine, nn, viz).

  dagrad graph --expr "tanh(a*b + c)" --set a=2 b=-3 c=10 -o graph.png --explain --steps steps.html
  dagrad graph --mlp 2,16,16,1 -o mlp.svg [--collapse 0]
  dagrad demo NAME [demo args...]
  dagrad serve [--port N] [--no-open] [--host H]   # the live explorer and playground in the browser

Errors (a malformed expression, an unknown variable, a bad flag) print one line on stderr and exit with a
non-zero status; no traceback.
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any, NoReturn

import engine

EXIT_USAGE, EXIT_FAILURE = 2, 1


class UsageError(Exception):
    """Bad command-line usage, reported as one line."""


class _Parser(argparse.ArgumentParser):
    """argparse, but errors are one line on stderr (no usage dump), raised so main() decides the exit."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{self.prog}: error: {message} (see {self.prog} --help)")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="dagrad",
        description="Draw dagrad computation graphs, explain backprop step by step, run the demos.",
        epilog="examples:\n"
        '  dagrad graph --expr "tanh(a*b + c)" --set a=2 b=-3 c=10 -o graph.png --explain\n'
        '  dagrad graph --expr "a*a + a" --set a=3 --steps steps.html\n'
        "  dagrad graph --mlp 2,16,16,1 -o mlp.svg --collapse 0\n"
        "  dagrad demo xor --quick\n"
        "  dagrad serve --no-open",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    graph = commands.add_parser(
        "graph",
        help="draw an expression's or an MLP's graph",
        description="Build a graph from an expression or an MLP, run backward, and draw / explain it. "
        "Expressions accept numbers, variables, + - * / % **, parentheses and "
        "tanh exp log log1p expm1 sqrt abs sin cos sigmoid relu gelu silu softplus erf max min. "
        "Nothing is evaluated as Python. With no -o, --explain or --steps, the DOT source goes to stdout.",
    )
    source = graph.add_mutually_exclusive_group(required=True)
    source.add_argument("--expr", metavar="EXPR", help='an expression such as "tanh(a*b + c)"')
    source.add_argument("--mlp", metavar="SIZES", help="layer sizes of an nn.MLP, e.g. 2,16,16,1")
    graph.add_argument(
        "--set",
        nargs="+",
        action="extend",  # repeated flags add up: --set a=2 --set b=3
        default=[],
        metavar="NAME=VALUE",
        help="variable values: a=2 b=-3 (repeatable; a name given twice must keep its value)",
    )
    graph.add_argument(
        "-o",
        "--output",
        metavar="PATH",
        # the suffixes viz.render accepts (tests/demos/test_cli.py checks the two lists agree)
        help="picture to write; the format comes from the suffix: .svg .png .jpg .jpeg .pdf .dot .gv "
        "(.dot and .gv are the DOT source). Without -o (and without --explain or --steps) the graph's DOT "
        "source is printed to stdout (to pipe into Graphviz's dot, for instance)",
    )
    graph.add_argument("--explain", action="store_true", help="print the backward pass as text")
    graph.add_argument("--steps", metavar="PATH", help="write the backprop stepper: .html, .gif or a PNG directory")
    graph.add_argument("--batch", type=int, default=4, help="--mlp: batch size of the random input (default 4)")
    graph.add_argument("--seed", type=int, default=0, help="--mlp: random seed (default 0)")
    graph.add_argument("--collapse", type=int, metavar="DEPTH", help="--mlp: draw modules deeper than DEPTH as boxes")
    graph.add_argument("--rankdir", choices=["LR", "TB", "RL", "BT"], default="LR", help="layout direction")
    graph.add_argument("--dpi", type=int, help="resolution of PNG/PDF output")
    graph.add_argument("--backend", choices=["auto", "system", "pure"], help="Graphviz to use (default auto)")
    serve = commands.add_parser(
        "serve",
        help="the live explorer and playground in the browser",
        description="Start the explorer (poke a graph, watch every gradient move) and the playground (train an "
        "MLP live) on this machine and open it in the browser. Ctrl-C stops it.",
    )
    serve.add_argument("--port", type=int, default=8765, help="port to listen on (default 8765; 0 picks a free one)")
    serve.add_argument("--no-open", action="store_true", help="only print the address; do not open a browser")
    serve.add_argument(
        "--host",
        default="127.0.0.1",
        help="interface to listen on (default 127.0.0.1, this machine only; another exposes the pages, which "
        "have no login, to the network)",
    )
    demo = commands.add_parser("demo", help="run a lesson from the demos package", add_help=False)
    demo.add_argument("name", metavar="NAME", help="the lesson (dagrad demo --help lists them)")
    demo.add_argument("args", nargs=argparse.REMAINDER, help="arguments for the lesson")
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the exit status (0 on success)."""
    argv = sys.argv[1:] if argv is None else list(argv)
    parser = build_parser()
    try:
        if argv[:1] == ["demo"]:
            return _run_demo(argv[1:])
        args = parser.parse_args(argv)
        if args.command is None:
            parser.print_help()
            return EXIT_USAGE
        if args.command == "serve":
            return _run_serve(args)
        return _run_graph(args)
    except SystemExit as stop:  # --help
        return int(stop.code or 0) if isinstance(stop.code, int | None) else EXIT_USAGE
    except UsageError as error:
        print(str(error), file=sys.stderr)
        return EXIT_USAGE
    except BrokenPipeError:  # `dagrad ... --explain | head`: the reader left; stop quietly
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_FAILURE
    except (ValueError, TypeError, RuntimeError, OSError, MemoryError) as error:  # MemoryError: --mlp 100000,100000
        print(f"dagrad: error: {error}", file=sys.stderr)
        return EXIT_FAILURE


def _run_demo(argv: list[str]) -> int:
    import demos

    return int(demos.main(argv) or 0)


def _run_serve(args: argparse.Namespace) -> int:
    from viz.explore.server import ServerError, serve

    try:
        serve(host=args.host, port=args.port, open_browser=not args.no_open)
    except ServerError as error:
        raise UsageError(f"dagrad serve: error: {error}") from None
    except KeyboardInterrupt:  # uvicorn shut down cleanly, then passed Ctrl-C on
        pass
    print("dagrad explorer stopped", file=sys.stderr)
    return 0


def _run_graph(args: argparse.Namespace) -> int:
    from viz import backprop_steps, explain, render
    from viz.graph import draw_graph

    if args.expr is not None:
        root, params, title = _expression(args)
    else:
        if args.set:
            raise UsageError("dagrad graph: error: --set applies to --expr only (see dagrad graph --help)")
        root, params, title = _mlp(args)
    # The command is for looking: keep what backward does for any graph it can draw, not only learning-size ones.
    previous = engine.set_learning_size(10**8)
    try:
        root.backward()
    finally:
        engine.set_learning_size(previous)
    if args.explain:
        print(explain(root, params=params))
    if args.steps:
        written = backprop_steps(root, args.steps, params=params, backend=args.backend)
        print(f"wrote {written}", file=sys.stderr)
    if args.output:
        graph = draw_graph(root, params=params, rankdir=args.rankdir, collapse=args.collapse)
        written = render(graph, args.output, dpi=args.dpi, backend=args.backend)
        print(f"wrote {written} ({title})", file=sys.stderr)
    elif not args.explain and not args.steps:
        print(draw_graph(root, params=params, rankdir=args.rankdir, collapse=args.collapse).source)
    return 0


def _expression(args: argparse.Namespace) -> tuple[engine.Tensor, Any, str]:
    from viz.expr import ExpressionError, build_expression, parse_assignments

    if args.collapse is not None:
        raise UsageError("dagrad graph: error: --collapse applies to --mlp only (see dagrad graph --help)")
    try:
        root, leaves = build_expression(args.expr, parse_assignments(args.set))
    except ExpressionError as error:
        raise UsageError(f"dagrad graph: error: {error}") from None
    root.name = next(n for n in ("out", "result", "value") if n not in leaves) if root.name is None else root.name
    return root, leaves, args.expr


def _mlp(args: argparse.Namespace) -> tuple[engine.Tensor, Any, str]:
    try:
        sizes = [int(s) for s in args.mlp.split(",")]
    except ValueError:
        raise UsageError(
            f"dagrad graph: error: --mlp expects comma-separated layer sizes such as 2,16,16,1, got {args.mlp!r}"
        ) from None
    if len(sizes) < 2 or min(sizes) < 1:
        raise UsageError(f"dagrad graph: error: --mlp needs at least two positive sizes (in,out), got {args.mlp!r}")
    if args.batch < 1:
        raise UsageError(f"dagrad graph: error: --batch must be positive, got {args.batch}")
    engine.manual_seed(args.seed)
    model = _mlp_class()(sizes[0], sizes[1:-1], sizes[-1])
    x = engine.randn(args.batch, sizes[0])
    x.name = "x"
    root = model(x).mean()
    root.name = "mean(output)"
    return root, model, f"MLP {args.mlp}"


def _mlp_class() -> Any:
    """nn.MLP, imported only when --mlp is used (drawing an expression needs no nn)."""
    import nn

    return nn.MLP


if __name__ == "__main__":
    sys.exit(main())
