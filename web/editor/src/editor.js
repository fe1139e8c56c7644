// AsyncLab code editor: CodeMirror 6 with Go mode, bundled by build.sh into
// web/static/editor.js as an IIFE that defines window.AsyncLabEditor.
//
//   const ed = AsyncLabEditor.create(parentElement, {doc, onRun, onSubmit});
//   ed.getValue(); ed.setValue(text); ed.focus(); ed.view
//   ed.setProblems([{line, col, msg}]);  // 1-based line, col (0 = whole line)
//
// The root .cm-editor element carries data-testid="editor" and
// data-problem-lines="3,7" (1-based lines currently marked; "" when none).

import { minimalSetup } from "codemirror";
import { EditorState, Prec } from "@codemirror/state";
import {
  EditorView,
  keymap,
  lineNumbers,
  highlightActiveLineGutter,
  ViewPlugin,
  Decoration,
} from "@codemirror/view";
import { indentWithTab } from "@codemirror/commands";
import {
  bracketMatching,
  indentOnInput,
  indentUnit,
  syntaxHighlighting,
  defaultHighlightStyle,
} from "@codemirror/language";
import { searchKeymap, highlightSelectionMatches } from "@codemirror/search";
import { lintGutter, setDiagnostics, forEachDiagnostic } from "@codemirror/lint";
import { go } from "@codemirror/lang-go";

const lightTheme = EditorView.theme(
  {
    "&": {
      backgroundColor: "#fff",
      color: "#1f2328",
      border: "1px solid #c8ccd1",
      borderRadius: "4px",
      fontSize: "14px",
    },
    "&.cm-focused": {
      outline: "2px solid #7aa7e0",
      outlineOffset: "-1px",
    },
    ".cm-scroller": {
      fontFamily:
        'ui-monospace, SFMono-Regular, "SF Mono", Menlo, Consolas, "DejaVu Sans Mono", "Liberation Mono", monospace',
      lineHeight: "1.5",
      overflow: "auto",
    },
    ".cm-content, .cm-gutter": { minHeight: "24rem" },
    ".cm-content": { caretColor: "#1f2328" },
    ".cm-gutters": {
      backgroundColor: "#f6f8fa",
      color: "#8c959f",
      borderRight: "1px solid #e1e4e8",
    },
    ".cm-activeLine": { backgroundColor: "#f5f8ff" },
    ".cm-activeLineGutter": { backgroundColor: "#e8eefc", color: "#1f2328" },
    ".cm-problemLine": { backgroundColor: "#fdecec" },
    ".cm-problemLine.cm-activeLine": { backgroundColor: "#fbe1e1" },
    "&.cm-focused .cm-matchingBracket": { backgroundColor: "#c9e3c9" },
    "&.cm-focused .cm-nonmatchingBracket": { backgroundColor: "#f3c4c4" },
  },
  { dark: false }
);

const problemLine = Decoration.line({ class: "cm-problemLine" });

// Keeps data-problem-lines on the root element in sync with the diagnostics
// currently shown (they move with edits, so recompute on every update), and
// tints those lines (class cm-problemLine), which also makes errors on empty
// lines visible.
const problemLines = ViewPlugin.fromClass(
  class {
    constructor(view) {
      this.value = null;
      this.decorations = Decoration.none;
      this.sync(view, true);
    }
    update(update) {
      this.sync(update.view, update.docChanged);
    }
    sync(view, docChanged) {
      const state = view.state;
      const lines = new Set();
      forEachDiagnostic(state, (_d, from) => {
        lines.add(state.doc.lineAt(Math.min(from, state.doc.length)).number);
      });
      const sorted = [...lines].sort((a, b) => a - b);
      const value = sorted.join(",");
      if (value !== this.value || docChanged) {
        this.decorations = Decoration.set(sorted.map((n) => problemLine.range(state.doc.line(n).from)));
      }
      if (value !== this.value || view.dom.getAttribute("data-problem-lines") !== value) {
        this.value = value;
        view.dom.setAttribute("data-problem-lines", value);
      }
    }
  },
  { decorations: (v) => v.decorations }
);

// Go reports columns in bytes (UTF-8); convert to a UTF-16 offset in text.
function byteColToOffset(text, col) {
  let bytes = 0;
  let i = 0;
  while (i < text.length && bytes < col - 1) {
    const cp = text.codePointAt(i);
    bytes += cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
    i += cp > 0xffff ? 2 : 1;
  }
  return i;
}

function toDiagnostics(doc, problems) {
  const out = [];
  for (const p of problems || []) {
    if (!p) continue;
    let lineNo = Math.floor(Number(p.line));
    if (!Number.isFinite(lineNo)) continue;
    lineNo = Math.min(Math.max(lineNo, 1), doc.lines);
    const line = doc.line(lineNo);
    const col = Math.floor(Number(p.col)) || 0;
    let from = line.from;
    let to = line.to;
    if (col > 0) {
      const off = byteColToOffset(line.text, col);
      if (off < line.text.length) {
        // Underline the identifier/number at the column, else one character.
        let end = off;
        while (end < line.text.length && /[\p{L}\p{N}_]/u.test(line.text[end])) end++;
        if (end === off) end = off + 1;
        from = line.from + off;
        to = line.from + end;
      }
      // Column at/after end of line: mark the whole line.
    }
    out.push({
      from,
      to,
      severity: "error",
      message: String(p.msg == null ? "" : p.msg),
    });
  }
  return out;
}

function create(parent, opts) {
  opts = opts || {};
  const call = (name) => () => {
    const fn = opts[name];
    if (typeof fn === "function") fn();
    return true; // never insert a newline
  };
  const run = call("onRun");
  const submit = call("onSubmit");

  const runKeys = Prec.highest(
    keymap.of([
      { key: "Shift-Mod-Enter", run: submit, preventDefault: true },
      { key: "Shift-Ctrl-Enter", run: submit, preventDefault: true },
      { key: "Mod-Enter", run: run, preventDefault: true },
      { key: "Ctrl-Enter", run: run, preventDefault: true },
    ])
  );

  const view = new EditorView({
    parent,
    state: EditorState.create({
      doc: opts.doc == null ? "" : String(opts.doc),
      extensions: [
        runKeys,
        lineNumbers(),
        highlightActiveLineGutter(),
        lintGutter(),
        minimalSetup, // special chars, history, drawSelection, active line, default keymap
        indentOnInput(),
        bracketMatching(),
        highlightSelectionMatches(),
        syntaxHighlighting(defaultHighlightStyle),
        indentUnit.of("\t"),
        EditorState.tabSize.of(4),
        keymap.of([indentWithTab, ...searchKeymap]),
        go(),
        lightTheme,
        EditorView.editorAttributes.of({ "data-testid": "editor" }),
        // A name for screen readers, and a tab stop axe can see on the
        // scrolling content.
        EditorView.contentAttributes.of({ "aria-label": "Your handler's code", tabindex: "0" }),
        problemLines,
      ],
    }),
  });

  return {
    view,
    getValue() {
      return view.state.doc.toString();
    },
    setValue(text) {
      text = text == null ? "" : String(text);
      view.dispatch({
        changes: { from: 0, to: view.state.doc.length, insert: text },
      });
      view.dispatch(setDiagnostics(view.state, []));
    },
    setProblems(problems) {
      view.dispatch(setDiagnostics(view.state, toDiagnostics(view.state.doc, problems)));
    },
    focus() {
      view.focus();
    },
  };
}

const AsyncLabEditor = { create };
if (typeof window !== "undefined") window.AsyncLabEditor = AsyncLabEditor;
