"""The cursor's bookkeeping: handled in any order, never passing what is unfinished."""

from __future__ import annotations

from bot.conversation.watermark import Watermark


def test_the_position_waits_for_the_oldest_unfinished() -> None:
    marks = Watermark(100)
    assert [marks.admit(n) for n in (101, 102, 103)] == [True, True, True]
    assert not marks.admit(102)  # a redelivery
    assert not marks.admit(99)  # handled before the restart
    marks.finish(103)
    marks.finish(102)
    assert not marks.advance()  # 101 is still being answered
    assert marks.position == 100
    marks.finish(101)
    assert marks.advance()
    assert marks.position == 103
    assert not marks.admit(103)
    assert marks.pending == 0


def test_a_ceiling_holds_the_position_back() -> None:
    marks = Watermark()
    marks.admit(7)
    marks.finish(7)
    assert not marks.advance(ceiling=5)  # older ids may still come
    assert marks.position is None
    assert marks.advance(ceiling=7)
    assert marks.position == 7
