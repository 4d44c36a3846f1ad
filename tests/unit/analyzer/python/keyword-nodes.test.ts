import { describe, expect, it } from "vitest";
import { nodesByKeyword, parsePython } from "../../../../lib/analyzer/python/parse.ts";

// nodesByKeyword must give exactly what descendantsOfType gives (the index and the rules
// rely on the same nodes in the same order), only without visiting every node.
const sources = [
  `import os, sys as system\nfrom . import x\nfrom .a.b import (c, d as e)\nfrom __future__ import annotations\n`,
  `"import nothing"\n# import nothing either\ndef f():\n    import json\n    def g():\n        from x import y\n        return "def"\n    return g\n`,
  `class A:\n    @decorator\n    async def m(self):\n        global state, other\n        def inner(): pass\n        state = 1\nx = lambda: 0\nimportlib = 1\ndefault = 2\n`,
  `def broken(:\n    import os\n`,
  `from x import(y)\nif True:\n    import a\nelse:\n    import b\ntry:\n    import c\nexcept ImportError:\n    import d\nmatch v:\n    case 1:\n        import e\n`,
];

describe("nodesByKeyword", () => {
  for (const [n, text] of sources.entries()) {
    it(`finds the same nodes as descendantsOfType (source ${n + 1})`, () => {
      const root = parsePython(text).rootNode;
      for (const [keyword, types] of [
        ["import", ["import_statement", "import_from_statement"]],
        ["def", ["function_definition"]],
        ["global", ["global_statement"]],
      ] as const) {
        const expected = root.descendantsOfType([...types]).map((node) => node.id);
        expect(nodesByKeyword(root, text, keyword, types).map((node) => node.id)).toEqual(expected);
      }
    });
  }
});
