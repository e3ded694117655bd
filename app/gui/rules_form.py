"""The rules form, generated from the declared parameters (``planning.rules.iter_specs``).

Each parameter gets an editor of its type with its declared range and unit, a label in the
window's language and a tooltip with the help text and the policy source it comes from.
"""

from __future__ import annotations

import html
from typing import Any

from PyQt6.QtCore import QCoreApplication, QEvent, QObject, Qt, pyqtSignal
from PyQt6.QtWidgets import (
    QAbstractItemView,
    QAbstractSpinBox,
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QScrollArea,
    QSpinBox,
    QToolBox,
    QVBoxLayout,
    QWidget,
)

from core.vocab import MODE, PAIRING_FORM, PATTERN, QUALITY, RULE_CHOICE, VOCABS, Term, Vocab
from planning.rules import SECTION_LABELS, Rules, iter_specs


def _tr(text: str) -> str:
    return QCoreApplication.translate("rules_form", text)


# Parameters holding a comma-separated list of codes (an order of priority).
LIST_VOCABS: dict[str, Vocab] = {"pattern_priority": PATTERN}


def choice_vocab(choices: tuple[str, ...]) -> Vocab:
    """The vocabulary that names every one of a parameter's choices."""
    named = set(choices) - {""}
    for vocab in (QUALITY, MODE, PAIRING_FORM, RULE_CHOICE, *VOCABS.values()):
        if named <= set(vocab.codes):
            if "" in choices:  # an empty choice means "not set": the rule falls back on another
                return Vocab(vocab.name, (Term("", "不指定", "not set"), *vocab.terms))
            return vocab
    return Vocab("choices", tuple(Term(c, c, c) for c in choices))


class WheelGuard(QObject):
    """Passes the mouse wheel of an unfocused editor on to the form (which scrolls)."""

    def eventFilter(self, obj, event) -> bool:  # noqa: N802
        if event.type() == QEvent.Type.Wheel and not obj.hasFocus():
            event.ignore()  # ignored + filtered: Qt hands it to the parent, the scroll area
            return True
        return False


class CodeList(QListWidget):
    """An ordered list of codes shown by their labels; drag to reorder (first = highest)."""

    def __init__(self, vocab: Vocab, lang: str, parent=None):
        super().__init__(parent)
        self.vocab, self.lang = vocab, lang
        self.setDragDropMode(QAbstractItemView.DragDropMode.InternalMove)
        self.setDefaultDropAction(Qt.DropAction.MoveAction)
        self.setMaximumHeight(140)

    def set_codes(self, text: str) -> None:
        self.clear()
        for code in (c.strip() for c in text.split(",")):
            if code:
                item = QListWidgetItem(self.vocab.label(code, self.lang))
                item.setData(Qt.ItemDataRole.UserRole, code)
                self.addItem(item)

    def codes(self) -> str:
        return ",".join(self.item(i).data(Qt.ItemDataRole.UserRole) for i in range(self.count()))


def _decimals(spec) -> int:
    d = spec.default
    if abs(d) >= 1000 or float(d).is_integer():
        return 1 if abs(d) < 1000 else 0
    text = f"{d:.6f}".rstrip("0")
    return max(1, min(4, len(text.split(".")[1]) + 1))


class RulesForm(QWidget):
    """Editors for every parameter; ``applied`` sends {section: {name: value}} of changed ones."""

    applied = pyqtSignal(dict)

    def __init__(self, lang: str = "zh", parent=None):
        super().__init__(parent)
        self.lang = lang
        self.editors: dict[tuple[str, str], tuple[Any, QWidget]] = {}
        self.wheel_guard = WheelGuard(self)
        self._rules = Rules()
        self._defaults = Rules()
        outer = QVBoxLayout(self)
        outer.setContentsMargins(4, 4, 4, 4)
        self.toolbox = QToolBox()
        outer.addWidget(self.toolbox, 1)
        forms: dict[str, QFormLayout] = {}
        for section, spec, _value in iter_specs():
            if section not in forms:
                page = QWidget()
                forms[section] = QFormLayout(page)
                forms[section].setFieldGrowthPolicy(
                    QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow
                )
                scroll = QScrollArea()
                scroll.setWidgetResizable(True)
                scroll.setWidget(page)
                zh, en = SECTION_LABELS[section]
                self.toolbox.addItem(scroll, zh if lang == "zh" else en)
            editor = self._editor(spec)
            if isinstance(editor, (QAbstractSpinBox, QComboBox)):
                # Scrolling the form must not change a value the mouse passes over: the wheel
                # acts only on the focused editor (clicked or tabbed into).
                editor.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
                editor.installEventFilter(self.wheel_guard)
            label = QLabel(spec.info.label(lang))
            label.setWordWrap(True)
            tip = self._tooltip(spec)
            label.setToolTip(tip)
            editor.setToolTip(tip)
            forms[section].addRow(label, editor)
            self.editors[(section, spec.name)] = (spec, editor)
        buttons = QHBoxLayout()
        self.reset_button = QPushButton(_tr("Reset to defaults"))
        self.revert_button = QPushButton(_tr("Revert"))
        self.apply_button = QPushButton(_tr("Apply"))
        self.apply_button.setDefault(True)
        buttons.addWidget(self.reset_button)
        buttons.addStretch(1)
        buttons.addWidget(self.revert_button)
        buttons.addWidget(self.apply_button)
        outer.addLayout(buttons)
        self.reset_button.clicked.connect(lambda: self.show_rules(self._defaults, keep=True))
        self.revert_button.clicked.connect(lambda: self.show_rules(self._rules))
        self.apply_button.clicked.connect(self.apply)
        self.show_rules(self._rules)

    def _shown(self, spec, value) -> str:
        """A value as the planner reads it (codes in the vocabulary's words)."""
        if spec.info.choices:
            return choice_vocab(spec.info.choices).label(value, self.lang)
        if spec.name in LIST_VOCABS:
            vocab = LIST_VOCABS[spec.name]
            return "、".join(vocab.label(c.strip(), self.lang) for c in str(value).split(","))
        return str(value)

    def _tooltip(self, spec) -> str:
        info = spec.info
        parts = [f"<b>{html.escape(info.zh)}</b> / {html.escape(info.en)}"]
        help_text = info.help(self.lang)
        if help_text:
            parts.append(html.escape(help_text))
        if info.choices:
            vocab = choice_vocab(info.choices)
            words = ", ".join(vocab.label(c, self.lang) for c in info.choices)
            parts.append(_tr("One of: %1").replace("%1", html.escape(words)))
        elif info.lo is not None or info.hi is not None:
            rng = f"{info.lo:g} – {info.hi:g} {info.unit}".strip()
            parts.append(_tr("Range: %1").replace("%1", html.escape(rng)))
        parts.append(_tr("Default: %1").replace("%1", html.escape(self._shown(spec, spec.default))))
        if info.source:
            parts.append(_tr("Source: %1").replace("%1", html.escape(info.source)))
        return "<br>".join(parts)

    def _editor(self, spec) -> QWidget:
        info = spec.info
        if spec.kind is bool:
            return QCheckBox()
        if info.choices:
            # The label shown, the code stored (the item's data).
            box = QComboBox()
            vocab = choice_vocab(info.choices)
            for code in info.choices:
                box.addItem(vocab.label(code, self.lang), code)
            return box
        if spec.name in LIST_VOCABS:
            return CodeList(LIST_VOCABS[spec.name], self.lang)
        if spec.kind is int:
            box = QSpinBox()
            box.setRange(int(info.lo if info.lo is not None else -(10**9)),
                         int(info.hi if info.hi is not None else 10**9))  # fmt: skip
        elif spec.kind is float:
            box = QDoubleSpinBox()
            box.setDecimals(_decimals(spec))
            box.setRange(float(info.lo if info.lo is not None else -1e12),
                         float(info.hi if info.hi is not None else 1e12))  # fmt: skip
            step = 10 ** (-box.decimals() + 1) if box.decimals() > 1 else 1.0
            box.setSingleStep(step)
        else:
            return QLineEdit()
        if info.unit:
            box.setSuffix(f" {info.unit}")
        box.setGroupSeparatorShown(True)
        return box

    def set_rules(self, rules: Rules, defaults: Rules | None = None) -> None:
        self._rules = rules
        if defaults is not None:
            self._defaults = defaults
        self.show_rules(rules)

    def show_rules(self, rules: Rules, keep: bool = False) -> None:
        for section, spec, value in iter_specs(rules):
            _, editor = self.editors[(section, spec.name)]
            if isinstance(editor, QCheckBox):
                editor.setChecked(bool(value))
            elif isinstance(editor, QComboBox):
                editor.setCurrentIndex(max(0, editor.findData(str(value))))
            elif isinstance(editor, (QSpinBox, QDoubleSpinBox)):
                editor.setValue(value)
            elif isinstance(editor, CodeList):
                editor.set_codes(str(value))
            else:
                editor.setText(str(value))

    def value(self, section: str, name: str) -> Any:
        _, editor = self.editors[(section, name)]
        if isinstance(editor, QCheckBox):
            return editor.isChecked()
        if isinstance(editor, QComboBox):
            return editor.currentData()
        if isinstance(editor, (QSpinBox, QDoubleSpinBox)):
            return editor.value()
        if isinstance(editor, CodeList):
            return editor.codes()
        return editor.text()

    def set_value(self, section: str, name: str, value: Any) -> None:
        _, editor = self.editors[(section, name)]
        if isinstance(editor, QCheckBox):
            editor.setChecked(bool(value))
        elif isinstance(editor, QComboBox):
            editor.setCurrentIndex(max(0, editor.findData(str(value))))
        elif isinstance(editor, (QSpinBox, QDoubleSpinBox)):
            editor.setValue(value)
        elif isinstance(editor, CodeList):
            editor.set_codes(str(value))
        else:
            editor.setText(str(value))

    def changes(self) -> dict[str, dict[str, Any]]:
        """Values that differ from the rules in force."""
        out: dict[str, dict[str, Any]] = {}
        for section, spec, value in iter_specs(self._rules):
            new = self.value(section, spec.name)
            if spec.kind is float:
                same = abs(float(new) - float(value)) <= 1e-9 * max(1.0, abs(float(value)))
            else:
                same = new == value
            if not same:
                out.setdefault(section, {})[spec.name] = new
        return out

    def apply(self) -> None:
        changes = self.changes()
        if changes:
            self.applied.emit(changes)
