"""The window's commands as data: what each is called (zh/en), its icon, shortcut and handler,
and where it sits in the menus and the toolbar. ``window.py`` builds the QActions from here.

A handler is ``"part.method"`` or ``"part.method:argument"``; ``part`` names one of the window's
parts (``files``, ``edit``, ``jobs``, ``window``) and is resolved when the window is built, so
this module knows no class of the window. An icon is a ``QStyle.StandardPixmap`` name; a
shortcut is a ``QKeySequence.StandardKey`` name or a key text such as ``"Ctrl+E"``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from PyQt6.QtGui import QAction, QActionGroup, QKeySequence, QUndoGroup, QUndoStack
from PyQt6.QtWidgets import QMenu, QStyle, QToolBar, QToolButton, QWidget


@dataclass(frozen=True)
class ActionSpec:
    id: str
    zh: str
    en: str
    handler: str  # "part.method[:argument]"; "undo_stack.undo"/"redo" make Qt's undo actions
    icon: str | None = None
    shortcut: str | None = None
    tip_zh: str = ""
    tip_en: str = ""
    checkable: bool = False
    enabled: bool = True
    group: str = ""  # checkable actions of one group exclude each other

    def text(self, lang: str) -> str:
        return self.en if lang == "en" else self.zh

    def tip(self, lang: str) -> str:
        return self.tip_en if lang == "en" else self.tip_zh


@dataclass(frozen=True)
class MenuSpec:
    """A menu (or, in a toolbar, a pop-up button): action ids, None = separator, a nested
    MenuSpec, or ``"@name"`` = something the window fills in (dock toggles, a widget)."""

    id: str
    zh: str
    en: str
    items: tuple[str | MenuSpec | None, ...]

    def text(self, lang: str) -> str:
        return self.en if lang == "en" else self.zh


A = ActionSpec
# fmt: off
ACTIONS: tuple[ActionSpec, ...] = (
    A("open", "打开…", "Open...", "files.open_dialog", "SP_DialogOpenButton", "Open",
      "打开 project.toml 或已保存的方案文件夹", "Open a project.toml or a saved scenario folder"),
    A("add_layer", "添加图层…", "Add layer...", "files.add_layer_dialog", "SP_FileDialogNewFolder",
      None, "从文件添加或替换图层", "Add or replace a layer from a file"),
    A("save", "保存", "Save", "files.save", "SP_DialogSaveButton", "Save", "保存方案",
      "Save the scenario"),
    A("save_as", "另存为…", "Save as...", "files.save_as_dialog", None, "SaveAs"),
    A("export", "导出…", "Export...", "jobs.export_dialog", "SP_DriveFDIcon", "Ctrl+E",
      "输出 map.html、map.png、map.pdf、tables.xlsx 和 plan.gpkg",
      "Write map.html, map.png, map.pdf, tables.xlsx and plan.gpkg"),
    A("quit", "退出", "Quit", "window.close", None, "Quit"),
    A("undo", "撤销", "Undo", "undo_stack.undo", "SP_ArrowBack", "Undo"),
    A("redo", "重做", "Redo", "undo_stack.redo", "SP_ArrowForward", "Redo"),
    A("run_all", "运行规划", "Run plan", "jobs.run:all", "SP_MediaPlay", "F5",
      "规划新建学校、教育集团和学区", "Plan new schools, groups and catchments"),
    A("run_new", "新建学校", "New schools", "jobs.run:new_schools", None, None,
      "规划新建学校(集团与学区随之更新,二者依赖新建学校)",
      "Plan new schools (groups and catchments follow, they depend on them)"),
    A("run_groups", "教育集团", "Groups", "jobs.run:groups", None, None, "重新组建教育集团",
      "Form education groups again"),
    A("run_catch", "学区划片", "Catchments", "jobs.run:catchments", None, None, "重新划分学区",
      "Draw catchments again"),
    A("cancel", "取消", "Cancel", "jobs.cancel", "SP_BrowserStop", "Esc", "停止正在运行的计算",
      "Stop the running job", enabled=False),
    A("add_school", "添加学校", "Add school", "edit.toggle_add_mode", "SP_FileIcon", None,
      "在地图上点击放置规划学校", "Click the map to place a planned school", checkable=True),
    A("add_candidate", "添加候选地块", "Add candidate site", "edit.toggle_candidate_mode",
      "SP_DialogApplyButton", None, "在地图上点击,标注新建学校的候选地块(不限学段)",
      "Click the map to mark a candidate site for new schools (any level)", checkable=True),
    A("delete_candidate", "删除候选地块", "Delete candidate site", "edit.delete_selected_candidate",
      None, None, "删除地图上最后点击的候选地块",
      "Delete the candidate site last clicked on the map", enabled=False),
    A("edit_school", "编辑学校…", "Edit school...", "edit.edit_selected",
      "SP_FileDialogDetailedView", None, "编辑所选学校的属性",
      "Edit the selected school's attributes"),
    A("delete_school", "删除学校", "Delete school", "edit.delete_selected", "SP_TrashIcon",
      "Delete", "删除所选学校", "Delete the selected school"),
    A("lock_pair", "固定到核心校…", "Lock to core...", "edit.lock_selected_dialog", None, None,
      "将所选成员校固定到指定核心校",
      "Keep the selected member with a core school of your choice"),
    A("exclude", "不参加集团", "Exclude from groups", "edit.exclude_selected", None, None,
      "所选学校不参加任何集团", "Keep the selected school out of every group"),
    A("force_core", "指定为核心校", "Force as core", "edit.force_core_selected", None, None,
      "允许所选学校作为核心校", "Let the selected school lead a group"),
    A("measure", "测量距离", "Measure distance", "edit.toggle_measure", None, None,
      "在地图上依次点击,显示折线总长度(公里)", "Click points on the map to measure the length (km)",
      checkable=True),
    A("labels", "显示校名", "Show names", "edit.toggle_labels", None, None,
      "在地图上的学校旁显示名称", "Show school names beside their symbols on the map",
      checkable=True),
    A("basemap", "底图…", "Base map...", "jobs.choose_basemap", None, None,
      "无底图、本地瓦片文件夹、MBTiles 文件或在线瓦片地址(可纠正 GCJ-02 偏移)",
      "None, a local tile folder, an MBTiles file or online tiles (GCJ-02 shift)"),
    A("lang_zh", "中文", "中文", "window.request_language:zh", checkable=True, group="lang"),
    A("lang_en", "English", "English", "window.request_language:en", checkable=True, group="lang"),
)
# fmt: on
# Acting on the one selected school: enabled only while a school is selected.
SELECTION_ACTIONS = ("edit_school", "delete_school", "lock_pair", "exclude", "force_core")

M = MenuSpec
LANGUAGE_MENU = M("language", "语言", "Language", ("lang_zh", "lang_en"))
RUN_PART = M("run_part", "分步运行", "Run part", ("run_new", "run_groups", "run_catch"))
MENUS: tuple[MenuSpec, ...] = (
    M("file", "文件(&F)", "&File",
      ("open", "add_layer", None, "save", "save_as", None, "export", None, "quit")),
    M("edit", "编辑(&E)", "&Edit",
      ("undo", "redo", None, "add_school", "edit_school", "delete_school", None,
       "add_candidate", "delete_candidate", None, "lock_pair", "exclude", "force_core")),
    M("plan", "规划(&P)", "&Plan",
      ("run_all", None, "run_new", "run_groups", "run_catch", None, "cancel")),
    M("view", "视图(&V)", "&View", ("labels", "measure", "basemap", None, "@docks", LANGUAGE_MENU)),
)  # fmt: skip
TOOLBAR = M(
    "main_toolbar", "主工具栏", "Main",
    ("open", "save", None, "undo", "redo", None, "add_school", "@new_level", "add_candidate",
     "edit_school", "delete_school", None, "run_all", RUN_PART, None, "export", None, "labels",
     "measure"),
)  # fmt: skip


def _shortcut(text: str) -> QKeySequence:
    standard = getattr(QKeySequence.StandardKey, text, None)
    return QKeySequence(standard) if standard is not None else QKeySequence(text)


def build_actions(
    parent: QWidget,
    lang: str,
    resolve: Callable[[str], Callable[..., object]],
    undo_stack: QUndoStack | QUndoGroup,
    specs: tuple[ActionSpec, ...] = ACTIONS,
) -> dict[str, QAction]:
    """One QAction per spec, wired to its handler (``resolve("part.method")``)."""
    actions: dict[str, QAction] = {}
    groups: dict[str, QActionGroup] = {}
    for spec in specs:
        if spec.handler in ("undo_stack.undo", "undo_stack.redo"):
            # Qt's own: the text follows the command on top ("Undo Move school").
            make = (
                undo_stack.createUndoAction
                if spec.handler.endswith("undo")
                else undo_stack.createRedoAction
            )
            action = make(parent, spec.text(lang))
        else:
            action = QAction(spec.text(lang), parent)
            name, _, arg = spec.handler.partition(":")
            slot = resolve(name)
            # triggered(bool) would hand "checked" to a handler that takes no argument.
            if spec.checkable and not arg:
                action.triggered.connect(slot)
            else:
                args = (arg,) if arg else ()
                action.triggered.connect(lambda _checked=False, f=slot, a=args: f(*a))
        if spec.icon:
            action.setIcon(parent.style().standardIcon(getattr(QStyle.StandardPixmap, spec.icon)))
        if spec.shortcut:
            action.setShortcut(_shortcut(spec.shortcut))
        if spec.tip(lang):
            action.setToolTip(spec.tip(lang))
            action.setStatusTip(spec.tip(lang))
        action.setCheckable(spec.checkable)
        if not spec.enabled:  # (Qt's undo actions follow the stack: leave them be)
            action.setEnabled(False)
        if spec.group:
            groups.setdefault(spec.group, QActionGroup(parent)).addAction(action)
        actions[spec.id] = action
    return actions


def fill(
    target: QMenu | QToolBar,
    menu: MenuSpec,
    actions: dict[str, QAction],
    lang: str,
    extras: dict[str, object] | None = None,
) -> None:
    """Put ``menu``'s items into a menu or toolbar; ``extras`` fills the ``"@name"`` items
    (a list of actions, or a widget for a toolbar)."""
    extras = extras or {}
    for item in menu.items:
        if item is None:
            target.addSeparator()
        elif isinstance(item, MenuSpec):
            if isinstance(target, QToolBar):
                button = QToolButton()
                button.setText(item.text(lang))
                button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
                for key in item.items:
                    button.addAction(actions[key])
                target.addWidget(button)
            else:
                fill(target.addMenu(item.text(lang)), item, actions, lang, extras)
        elif item.startswith("@"):
            extra = extras[item[1:]]
            if isinstance(extra, QWidget):
                target.addWidget(extra)
            else:
                for action in extra:
                    target.addAction(action)
        else:
            target.addAction(actions[item])
