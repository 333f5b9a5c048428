"""Stacks printed by the real runtimes (Python, Node.js, Go, Java) for the exception reader's unit table.

``python3 gen_stacks.py`` runs each snippet below in its runtime (python3, node, go, javac/java on the
PATH) and writes ``stacks.json``: per snippet the text the runtime printed (an uncaught exception on
stderr, or a stack the program formatted itself) and what the snippet raises — the types of its chain
(the raised one first), its message and the function that raised — written here beside the code,
never read back from the output.
"""

from __future__ import annotations

import json
import subprocess
import tempfile
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent

PYTHON: list[dict[str, Any]] = [
    {
        "name": "python-custom-type-no-suffix",
        "code": (
            "class PaymentDeclined(Exception):\n    pass\n\n"
            "def charge(card):\n    raise PaymentDeclined(f'card {card} declined')\n\n"
            "def checkout():\n    charge('4242')\n\ncheckout()\n"
        ),
        "types": ["PaymentDeclined"],
        "message": "card 4242 declined",
        "culprit": "charge",
    },
    {
        "name": "python-chained-cause",
        "code": (
            "class RefundFailed(Exception):\n    pass\n\n"
            "def gateway():\n    raise ConnectionError('gateway 10.0.0.7 unreachable')\n\n"
            "def refund():\n    try:\n        gateway()\n    except ConnectionError as exc:\n"
            "        raise RefundFailed('refund r-1 failed') from exc\n\nrefund()\n"
        ),
        "types": ["RefundFailed", "ConnectionError"],
        "message": "refund r-1 failed",
        "culprit": "refund",
    },
    {
        "name": "python-during-handling",
        "code": (
            "def load(d):\n    try:\n        return d['id']\n"
            "    except KeyError:\n        return int(d['fallback'])\n\n"
            "load({'fallback': 'x'})\n"
        ),
        "types": ["ValueError", "KeyError"],
        "message": "invalid literal for int() with base 10: 'x'",
        "culprit": "load",
    },
    {
        "name": "python-stopiteration",
        "code": "def first(items):\n    return next(iter(items))\n\nfirst([])\n",
        "types": ["StopIteration"],
        "message": "",
        "culprit": "first",
    },
    {
        "name": "python-keyboardinterrupt",
        "code": (
            "import os, signal\n\ndef wait():\n    os.kill(os.getpid(), signal.SIGINT)\n"
            "    while True:\n        pass\n\nwait()\n"
        ),
        "types": ["KeyboardInterrupt"],
        "message": "",
        "culprit": "wait",
    },
    {
        "name": "python-nested-class-does-not-exist",
        "code": (
            "class Order:\n    class DoesNotExist(Exception):\n        pass\n\n"
            "def get(order_id):\n    raise Order.DoesNotExist('Order matching query does not exist.')\n\nget(7)\n"
        ),
        "types": ["Order.DoesNotExist"],
        "message": "Order matching query does not exist.",
        "culprit": "get",
    },
    {
        "name": "python-library-raise-json",
        "code": "import json\n\ndef parse(body):\n    return json.loads(body)\n\nparse('{bad')\n",
        "types": ["json.decoder.JSONDecodeError"],
        "message": "Expecting property name enclosed in double quotes: line 1 column 2 (char 1)",
        "culprit": "parse",
    },
    {
        "name": "python-multiline-message",
        "code": "def fail():\n    raise ValueError('first line 12\\nsecond line')\n\nfail()\n",
        "types": ["ValueError"],
        "message": "first line 12\nsecond line",
        "culprit": "fail",
    },
]

NODE: list[dict[str, Any]] = [
    {
        "name": "node-class-extends-error-named",
        "code": (
            "class PaymentDeclined extends Error {\n  constructor(m) { super(m); this.name = 'PaymentDeclined'; }\n}\n"
            "function charge(card) { throw new PaymentDeclined(`card ${card} declined`); }\n"
            "function checkout() { charge('4242'); }\ncheckout();\n"
        ),
        "types": ["PaymentDeclined"],
        "message": "card 4242 declined",
        "culprit": "charge",
    },
    {
        "name": "node-type-error",
        "code": "function ownerOf(order) { return order.owner.id; }\nownerOf(undefined);\n",
        "types": ["TypeError"],
        "message": "Cannot read properties of undefined (reading 'owner')",
        "culprit": "ownerOf",
    },
    {
        "name": "node-coded-error",
        "code": "function redirect(t) { return new URL(t).pathname; }\nredirect('not a url');\n",
        "types": ["TypeError"],
        "message": "Invalid URL",
        "culprit": "redirect",
    },
    {
        "name": "node-stack-printed",
        "code": (
            "class InventoryError extends Error {}\n"
            "function reserve(sku) { throw new InventoryError(`sku ${sku} out of stock`); }\n"
            "try { reserve('sku-9'); } catch (e) { process.stdout.write(e.stack); }\n"
        ),
        "stdout": True,
        "types": ["Error"],
        "message": "sku sku-9 out of stock",
        "culprit": "reserve",
    },
    {
        "name": "node-async-frames",
        "code": (
            "class GatewayTimeout extends Error { constructor(m) { super(m); this.name = 'GatewayTimeout'; } }\n"
            "async function capture(id) { await null; throw new GatewayTimeout(`capture of ${id} timed out`); }\n"
            "async function pay() { await capture('p-1'); }\n"
            "pay().catch((e) => process.stdout.write(e.stack));\n"
        ),
        "stdout": True,
        "types": ["GatewayTimeout"],
        "message": "capture of p-1 timed out",
        "culprit": "capture",
    },
]

GO: list[dict[str, Any]] = [
    {
        "name": "go-uncaught-index-panic",
        "code": (
            "package main\n\nfunc lookup(items []string, i int) string {\n\treturn items[i]\n}\n\n"
            'func main() {\n\tlookup([]string{"a"}, len("hello"))\n}\n'
        ),
        "types": ["panic"],
        "message": "runtime error: index out of range [5] with length 1",
        "culprit": "lookup",
    },
    {
        "name": "go-uncaught-error-value",
        "code": (
            "package main\n\ntype Declined struct{ Card string }\n\n"
            'func (d Declined) Error() string { return "card " + d.Card + " declined" }\n\n'
            'func charge(card string) {\n\tpanic(Declined{card})\n}\n\nfunc main() {\n\tcharge("4242")\n}\n'
        ),
        "types": ["panic"],
        "message": "card 4242 declined",
        "culprit": "charge",
    },
    {
        "name": "go-repanic-recovered",
        "code": (
            'package main\n\nimport "fmt"\n\nfunc risky() {\n\tpanic("first 1")\n}\n\n'
            "func main() {\n\tdefer func() {\n\t\tr := recover()\n"
            '\t\tpanic(fmt.Sprint("again: ", r))\n\t}()\n\trisky()\n}\n'
        ),
        "types": ["panic", "panic"],
        "message": "again: first 1",
        "culprit": "main.func1",
    },
    {
        "name": "go-nil-map-goroutine",
        "code": (
            'package main\n\nimport "sync"\n\nvar cache map[string]int\n\n'
            "func remember(k string) {\n\tcache[k] = 1\n}\n\n"
            "func main() {\n\tvar wg sync.WaitGroup\n\twg.Add(1)\n\tgo func() {\n\t\tdefer wg.Done()\n"
            '\t\tremember("k")\n\t}()\n\twg.Wait()\n}\n'
        ),
        "types": ["panic"],
        "message": "assignment to entry in nil map",
        "culprit": "remember",
    },
]

JAVA: list[dict[str, Any]] = [
    {
        "name": "java-caused-by-chain",
        "code": (
            "public class Main {\n"
            "  static class RefundFailed extends RuntimeException {\n"
            "    RefundFailed(String m, Throwable c) { super(m, c); }\n  }\n"
            "  static void gateway() throws java.io.IOException {\n"
            '    throw new java.io.IOException("gateway 10.0.0.7 unreachable");\n  }\n'
            "  static void refund() {\n    try { gateway(); }\n"
            '    catch (java.io.IOException e) { throw new RefundFailed("refund r-1 failed", e); }\n  }\n'
            "  public static void main(String[] a) { refund(); }\n}\n"
        ),
        "types": ["Main$RefundFailed", "java.io.IOException"],
        "message": "refund r-1 failed",
        "culprit": "refund",
    },
    {
        "name": "java-lambda-and-suppressed",
        "code": (
            "import java.util.List;\n"
            "public class Main {\n"
            "  static int parse(String s) { return Integer.parseInt(s); }\n"
            "  public static void main(String[] a) throws Exception {\n"
            '    try {\n      List.of("12", "x7").forEach(s -> parse(s));\n'
            "    } catch (NumberFormatException e) {\n"
            '      e.addSuppressed(new IllegalStateException("cleanup failed"));\n'
            "      e.printStackTrace();\n    }\n  }\n}\n"
        ),
        "types": ["java.lang.NumberFormatException"],
        "message": 'For input string: "x7"',
        "culprit": "parse",
    },
    {
        "name": "java-uncaught-custom",
        "code": (
            "public class Main {\n"
            "  static class PaymentDeclined extends Exception { PaymentDeclined(String m) { super(m); } }\n"
            "  static void charge(String card) throws PaymentDeclined {\n"
            '    throw new PaymentDeclined("card " + card + " declined");\n  }\n'
            '  public static void main(String[] a) throws Exception { charge("4242"); }\n}\n'
        ),
        "types": ["Main$PaymentDeclined"],
        "message": "card 4242 declined",
        "culprit": "charge",
    },
]


def run(command: list[str], cwd: Path, stdout: bool = False) -> str:
    done = subprocess.run(command, cwd=cwd, capture_output=True, text=True)
    return done.stdout if stdout else done.stderr


def main() -> None:
    out: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        for case in PYTHON:
            path = root / "py" / case["name"] / "app.py"
            path.parent.mkdir(parents=True)
            path.write_text(case["code"])
            out.append({**case, "language": "python", "stack": run(["python3", str(path)], path.parent)})
        for case in NODE:
            path = root / "js" / case["name"] / "app.js"
            path.parent.mkdir(parents=True)
            path.write_text(case["code"])
            text = run(["node", str(path)], path.parent, case.get("stdout", False))
            if not case.get("stdout"):
                # An uncaught error is printed after the source line and a caret: the stack starts at its header.
                lines = text.split("\n")
                start = next(i for i, line in enumerate(lines) if line.startswith(case["types"][0]))
                text = "\n".join(lines[start:])
            out.append({**case, "language": "javascript", "stack": text})
        for case in GO:
            path = root / "go" / case["name"] / "main.go"
            path.parent.mkdir(parents=True)
            path.write_text(case["code"])
            (path.parent / "go.mod").write_text(f"module {case['name'].replace('-', '')}\n\ngo 1.22\n")
            run(["go", "build", "-o", "app", "."], path.parent)
            out.append({**case, "language": "go", "stack": run(["./app"], path.parent)})
        for case in JAVA:
            path = root / "java" / case["name"] / "Main.java"
            path.parent.mkdir(parents=True)
            path.write_text(case["code"])
            run(["javac", "Main.java"], path.parent)
            out.append({**case, "language": "java", "stack": run(["java", "-cp", ".", "Main"], path.parent)})
    for case in out:
        case.pop("code")
        case.pop("stdout", None)
    (HERE / "stacks.json").write_text(json.dumps(out, indent=1, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
