// Fill an AcroForm PDF through MuPDF's JavaScript API the way a MuPDF viewer does, then save.
//
//   mutool run fill_mupdf.js IN.pdf OUT.pdf VALUES.json
//
// VALUES.json: {"field name": value}: a string for text fields, the export value for a
// choice, true/false for a check box.
//
// Written for mutool 1.21.1 (Debian 12's mupdf-tools), whose PDFWidget has no getName() or
// getObject() and whose PDFWidget.getOptions() aborts the interpreter (uncaught C exception),
// so the field name (/T) and options (/Opt) are read from the page's /Annots objects, matched to
// the widgets by rectangle. Per widget, as mupdf-gl does for a click + edit:
//   eventEnter, eventDown, eventFocus, eventUp, then
//   text: setTextValue(s)  choice: setChoiceValue(export)  check box: toggle() if it differs
//   eventBlur, eventExit, update()   (update() regenerates the appearance stream)
// then page.update() and doc.save(OUT, "incremental") (a full save if that is not possible).

function die(msg) {
	// mutool's print() goes to stdout; errors must go to stderr: throw, mutool prints to stderr
	// and exits 1.
	throw new Error("fill_mupdf: " + msg);
}

if (scriptArgs.length !== 3)
	die("usage: mutool run fill_mupdf.js IN.pdf OUT.pdf VALUES.json");
var inPath = scriptArgs[0], outPath = scriptArgs[1], valuesPath = scriptArgs[2];
var started = Date.now();

var values;
try {
	values = JSON.parse(read(valuesPath));
} catch (e) {
	die("cannot read " + valuesPath + ": " + e);
}
if (values === null || typeof values !== "object" || Array.isArray(values))
	die("VALUES.json must be an object");

var doc = new PDFDocument(inPath);

function str(obj) {
	// A PDF string object as JS text (asString decodes PDFDocEncoding / UTF-16BE).
	return obj && obj.isString && obj.isString() ? obj.asString() : null;
}

function fullName(obj) {
	// Fully qualified field name: /T of the widget and its parents, joined with '.'.
	var parts = [];
	for (var o = obj, depth = 0; o && !o.isNull() && depth < 32; o = o.get("Parent"), depth++) {
		var t = str(o.get("T"));
		if (t !== null) parts.unshift(t);
	}
	return parts.join(".");
}

function inherited(obj, key) {
	for (var o = obj, depth = 0; o && !o.isNull() && depth < 32; o = o.get("Parent"), depth++) {
		var v = o.get(key);
		if (v && !v.isNull()) return v;
	}
	return null;
}

function transform(m, r) {
	// Rect [x0 y0 x1 y1] through matrix m, normalised.
	var xs = [], ys = [];
	var pts = [[r[0], r[1]], [r[2], r[1]], [r[0], r[3]], [r[2], r[3]]];
	for (var i = 0; i < 4; i++) {
		xs.push(pts[i][0] * m[0] + pts[i][1] * m[2] + m[4]);
		ys.push(pts[i][0] * m[1] + pts[i][1] * m[3] + m[5]);
	}
	return [Math.min.apply(null, xs), Math.min.apply(null, ys), Math.max.apply(null, xs), Math.max.apply(null, ys)];
}

function near(a, b) {
	for (var i = 0; i < 4; i++) if (Math.abs(a[i] - b[i]) > 0.05) return false;
	return true;
}

// name -> [{page, widget, obj}]
var byName = {};
var pages = [];
var n = doc.countPages();
for (var p = 0; p < n; p++) {
	var page = doc.loadPage(p);
	pages.push(page);
	var widgets = page.getWidgets();
	if (!widgets.length) continue;
	var ctm = page.getTransform();
	var annots = doc.findPage(p).get("Annots");
	var objs = [];
	for (var i = 0; annots && i < annots.length; i++) {
		var a = annots.get(i);
		if (a.get("Subtype").toString() !== "/Widget") continue;
		var rect = [];
		for (var k = 0; k < 4; k++) rect.push(a.get("Rect").get(k).valueOf());
		objs.push({ obj: a, rect: transform(ctm, [Math.min(rect[0], rect[2]), Math.min(rect[1], rect[3]), Math.max(rect[0], rect[2]), Math.max(rect[1], rect[3])]) });
	}
	for (var w = 0; w < widgets.length; w++) {
		var wr = widgets[w].getRect();
		var match = [];
		for (var j = 0; j < objs.length; j++) if (near(objs[j].rect, wr)) match.push(objs[j]);
		if (match.length !== 1) {
			// Same rectangle twice on a page: fall back to document order, which MuPDF keeps.
			if (objs.length === widgets.length) match = [objs[w]];
			else die("page " + (p + 1) + ": cannot tell which field widget " + w + " (" + widgets[w].getLabel() + ") belongs to");
		}
		var name = fullName(match[0].obj);
		(byName[name] = byName[name] || []).push({ page: page, widget: widgets[w], obj: match[0].obj });
	}
}

function choiceExports(obj) {
	var opt = inherited(obj, "Opt"), out = [];
	for (var i = 0; opt && i < opt.length; i++) {
		var o = opt.get(i);
		out.push(o.isArray() ? str(o.get(0)) : str(o));
	}
	return out;
}

function onState(obj) {
	var nAP = obj.get("AP").get("N");
	var on = null;
	if (nAP && nAP.isDictionary())
		nAP.forEach(function (v, k) { if (k !== "Off") on = k; });
	return on;
}

var problems = [];
var changed = {};
Object.keys(values).forEach(function (name) {
	var value = values[name];
	var ws = byName[name];
	if (!ws) { problems.push("no field named " + JSON.stringify(name)); return; }
	for (var i = 0; i < ws.length; i++) {
		var widget = ws[i].widget, obj = ws[i].obj;
		var type = widget.getFieldType();
		if (widget.isReadOnly()) { problems.push(name + ": field is read-only"); return; }
		var err = null;
		if (type === "text") {
			if (typeof value !== "string") err = "text field needs a string, got " + JSON.stringify(value);
			else if (value.indexOf("\n") >= 0 && !(widget.getFieldFlags() & 4096)) err = "single-line text field cannot take a line break";
			else if (widget.getMaxLen() && value.length > widget.getMaxLen()) err = "longer than MaxLen " + widget.getMaxLen();
		} else if (type === "combobox" || type === "listbox") {
			var exports = choiceExports(obj);
			if (typeof value !== "string" || exports.indexOf(value) < 0)
				err = JSON.stringify(value) + " is not one of the choices " + JSON.stringify(exports);
		} else if (type === "checkbox") {
			if (typeof value !== "boolean") err = "check box needs true/false, got " + JSON.stringify(value);
			else if (!onState(obj)) err = "check box has no on-state appearance";
		} else {
			err = "unsupported widget type " + type;
		}
		if (err) { problems.push(name + ": " + err); return; }

		// A click on the widget...
		widget.eventEnter();
		widget.eventDown();
		widget.eventFocus();
		widget.eventUp();
		// ...then the edit.
		var ok;
		if (type === "text") {
			ok = widget.setTextValue(value);
		} else if (type === "combobox" || type === "listbox") {
			ok = widget.setChoiceValue(value);
		} else {
			var isOn = widget.getValue() !== "Off" && widget.getValue() !== "";
			if (isOn !== value) widget.toggle();
			ok = true;
		}
		widget.eventBlur();
		widget.eventExit();
		widget.update();
		if (ok === false) { problems.push(name + ": MuPDF refused the value (a validate action rejected it?)"); return; }

		// Did it stick?
		var got = widget.getValue();
		if (type === "checkbox") {
			var on = got !== "Off" && got !== "";
			if (on !== value) { problems.push(name + ": check box is " + got + " after toggle"); return; }
		} else if (got !== value) {
			problems.push(name + ": value reads back as " + JSON.stringify(got));
			return;
		}
		changed[name] = true;
	}
});
if (problems.length) die(problems.join("\n  "));

for (var p = 0; p < pages.length; p++) pages[p].update();
var mode = doc.canBeSavedIncrementally() ? "incremental" : "garbage=compact";
doc.save(outPath, mode);
print("fill_mupdf: mutool 1.21.1 JS: set " + Object.keys(changed).length + " fields, saved " + outPath + " (" + mode + ") in " + (Date.now() - started) + " ms");
