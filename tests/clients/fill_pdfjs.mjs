#!/usr/bin/env node
// Fill an AcroForm PDF the way the pdf.js viewer's form layer does, then save it.
//
//   node fill_pdfjs.mjs IN.pdf OUT.pdf VALUES.json
//
// VALUES.json: {"field name": value}: a string for text fields, the export value for a
// choice (combo/list box), true/false for a check box.
//
// The viewer's AnnotationLayer writes what a person types/picks/clicks into the document's
// AnnotationStorage keyed by the widget annotation's id ("12R"), with these shapes
// (pdfjs-dist 5.6.205, src/display/annotation_layer.js):
//   text widget      storage.setValue(id, {value: "<string>"})
//   combo box        storage.setValue(id, {value: "<export value>"})   (list box multi: [..])
//   check box        storage.setValue(id, {value: true|false})
// PDFDocumentProxy.saveDocument() then sends the storage to the worker, which writes new
// field values and appearance streams as an incremental update.
import fs from "node:fs";
import path from "node:path";
import { createRequire } from "node:module";
import * as pdfjs from "pdfjs-dist/legacy/build/pdf.mjs";

const die = (msg) => {
  process.stderr.write(`fill_pdfjs: ${msg}\n`);
  process.exit(1);
};

const [inPath, outPath, valuesPath] = process.argv.slice(2);
if (!inPath || !outPath || !valuesPath) die("usage: node fill_pdfjs.mjs IN.pdf OUT.pdf VALUES.json");

let values;
try {
  values = JSON.parse(fs.readFileSync(valuesPath, "utf8"));
} catch (e) {
  die(`cannot read ${valuesPath}: ${e.message}`);
}
if (values === null || typeof values !== "object" || Array.isArray(values)) die("VALUES.json must be an object");

const require = createRequire(import.meta.url);
const pkgDir = path.dirname(require.resolve("pdfjs-dist/package.json"));

process.on("unhandledRejection", (e) => die(e?.message ?? String(e)));

const started = process.hrtime.bigint();
let data;
try {
  data = new Uint8Array(fs.readFileSync(inPath));
} catch (e) {
  die(`cannot read ${inPath}: ${e.message}`);
}
let doc;
try {
  doc = await pdfjs.getDocument({
    data,
    standardFontDataUrl: path.join(pkgDir, "standard_fonts") + path.sep,
    cMapUrl: path.join(pkgDir, "cmaps") + path.sep,
    cMapPacked: true,
    verbosity: pdfjs.VerbosityLevel.ERRORS,
  }).promise;
} catch (e) {
  die(`cannot open ${inPath}: ${e.name}: ${e.message}`);
}

// Every widget of every page, by field name (a field may have several widgets).
const widgets = new Map();
for (let p = 1; p <= doc.numPages; p++) {
  const page = await doc.getPage(p);
  for (const a of await page.getAnnotations({ intent: "display" })) {
    if (a.annotationType !== pdfjs.AnnotationType.WIDGET || !a.fieldName) continue;
    if (!widgets.has(a.fieldName)) widgets.set(a.fieldName, []);
    widgets.get(a.fieldName).push({ ...a, pageNumber: p });
  }
}

const storage = doc.annotationStorage;
const problems = [];
for (const [name, value] of Object.entries(values)) {
  const ws = widgets.get(name);
  if (!ws) {
    problems.push(`no field named ${JSON.stringify(name)}`);
    continue;
  }
  for (const w of ws) {
    if (w.readOnly) {
      problems.push(`${name}: field is read-only`);
      break;
    }
    if (w.fieldType === "Tx") {
      if (typeof value !== "string") {
        problems.push(`${name}: text field needs a string, got ${JSON.stringify(value)}`);
        break;
      }
      if (!w.multiLine && value.includes("\n")) {
        problems.push(`${name}: single-line text field cannot take a line break`);
        break;
      }
      if (w.maxLen && [...value].length > w.maxLen) {
        problems.push(`${name}: longer than MaxLen ${w.maxLen}`);
        break;
      }
      storage.setValue(w.id, { value });
    } else if (w.fieldType === "Ch") {
      const exports = (w.options || []).map((o) => o.exportValue);
      const wanted = Array.isArray(value) ? value : [value];
      const bad = wanted.filter((v) => typeof v !== "string" || !exports.includes(v));
      if (bad.length) {
        problems.push(`${name}: ${JSON.stringify(bad)} is not one of the choices ${JSON.stringify(exports)}`);
        break;
      }
      if (wanted.length > 1 && !w.multiSelect) {
        problems.push(`${name}: only one choice can be selected`);
        break;
      }
      storage.setValue(w.id, { value: w.multiSelect ? wanted : wanted[0] });
    } else if (w.fieldType === "Btn" && w.checkBox) {
      if (typeof value !== "boolean") {
        problems.push(`${name}: check box needs true/false, got ${JSON.stringify(value)}`);
        break;
      }
      storage.setValue(w.id, { value });
    } else {
      problems.push(`${name}: unsupported widget (fieldType ${w.fieldType}${w.radioButton ? ", radio" : ""}${w.pushButton ? ", push button" : ""})`);
      break;
    }
  }
}
if (problems.length) {
  await doc.destroy();
  die(problems.join("\n  "));
}

const bytes = await doc.saveDocument();
try {
  fs.writeFileSync(outPath, bytes);
} catch (e) {
  die(`cannot write ${outPath}: ${e.message}`);
}
await doc.destroy();
const ms = Number(process.hrtime.bigint() - started) / 1e6;
process.stderr.write(`fill_pdfjs: pdfjs-dist ${pdfjs.version}: set ${Object.keys(values).length} fields, wrote ${outPath} (${bytes.length} bytes) in ${ms.toFixed(0)} ms\n`);
