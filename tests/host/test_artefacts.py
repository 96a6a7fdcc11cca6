"""Run folders made ahead: fresh, private, one per run, and nothing left behind."""

from __future__ import annotations

import os
import stat
import time
from pathlib import Path

from pixie_host.artefacts import ArtefactFolders


def test_every_run_gets_its_own_fresh_private_folder_named_after_it(tmp_path: Path) -> None:
    folders = ArtefactFolders(tmp_path / "artefacts", ahead=2)
    taken = [folders.take("echo")]  # nothing ready yet: made on the spot (the tool's folder too)
    folders.top_up("echo")
    folders.top_up("echo")  # one is ready already: the run path makes no second
    assert len(list((tmp_path / "artefacts" / "echo").iterdir())) == 2
    taken += [folders.take("echo"), folders.take("echo")]
    ids = [run_id for run_id, _folder in taken]
    assert len(set(ids)) == 3
    for run_id, name in taken:
        folder = Path(name)
        assert folder == tmp_path / "artefacts" / "echo" / run_id
        assert folder.is_dir() and not any(folder.iterdir())
        assert stat.S_IMODE(folder.stat().st_mode) == 0o700


def test_pruned_folders_come_back_empty_under_a_new_run_id(tmp_path: Path) -> None:
    root = tmp_path / "artefacts"
    folders = ArtefactFolders(root, ahead=2)
    old_ids = []
    for _ in range(4):
        run_id, folder = folders.take("echo")
        old_ids.append(run_id)
    (root / "echo" / old_ids[0] / "plot.png").write_bytes(b"x")
    assert folders.recycle(str(root / "echo" / old_ids[0]))  # had a file: removed, not kept
    assert not (root / "echo" / old_ids[0]).exists()
    assert folders.recycle(str(root / "echo" / old_ids[1]))
    assert folders.recycle(str(root / "echo" / old_ids[2]))
    assert not folders.recycle(str(root / "echo" / old_ids[3]))  # two ready already: the store removes it
    assert not folders.recycle(str(root / "other" / "x"))  # a tool that never ran
    assert not folders.recycle(str(tmp_path / "elsewhere" / "echo" / "x"))  # not under the root
    reused = [folders.take("echo"), folders.take("echo")]
    for run_id, name in reused:
        folder = Path(name)
        assert run_id not in old_ids and folder.name == run_id
        assert folder.is_dir() and not any(folder.iterdir())
        assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    assert {f.name for f in (root / "echo").iterdir()} == {old_ids[3], *(r for r, _f in reused)}


def test_a_ready_folder_removed_meanwhile_is_never_handed_out(tmp_path: Path) -> None:
    folders = ArtefactFolders(tmp_path)
    Path(folders.take("echo")[1]).rmdir()
    folders.top_up("echo")
    (ready,) = (tmp_path / "echo").iterdir()
    ready.rmdir()  # as a second host's sweep would
    run_id, name = folders.take("echo")
    assert Path(name).is_dir() and Path(name).name == run_id != ready.name


def test_close_removes_the_ready_folders_nobody_took(tmp_path: Path) -> None:
    folders = ArtefactFolders(tmp_path, ahead=3)
    used = Path(folders.take("echo")[1])
    (used / "out.txt").write_text("kept")
    for _ in range(3):
        folders.top_up("echo")
    folders.close()
    assert list((tmp_path / "echo").iterdir()) == [used]
    assert (used / "out.txt").read_text() == "kept"


def test_sweep_removes_what_no_recorded_run_owns(tmp_path: Path) -> None:
    root = tmp_path / "artefacts"
    owned = root / "echo" / "run-1"
    orphan = root / "echo" / "run-2"
    for folder in (owned, orphan):
        folder.mkdir(parents=True)
        (folder / "file.bin").write_bytes(b"x")
    elsewhere = tmp_path / "precious"
    elsewhere.mkdir()
    (root / "echo" / "link").symlink_to(elsewhere)  # a link is never followed, nor removed
    fresh = root / "echo" / "run-3"  # another host's, just made: its record may not be written yet
    fresh.mkdir()
    for folder in (owned, orphan):
        os.utime(folder, (time.time() - 120, time.time() - 120))
    assert ArtefactFolders(root).sweep([str(owned)]) == 1
    assert owned.is_dir() and not orphan.exists() and elsewhere.is_dir() and fresh.is_dir()
    assert ArtefactFolders(root).sweep([str(owned)], min_age_seconds=0) == 1 and not fresh.exists()
    assert ArtefactFolders(tmp_path / "missing").sweep([]) == 0
