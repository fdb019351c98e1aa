"""Visitors in the picture: silhouette masks (`visitor`, `room`), pictures at heads and over
silhouettes, the raw camera as a source, and what happens with nobody there.

Synthetic visitors: a made-up mask with filled ellipses at the analysis size (256x144) and
visitors whose boxes and heads are known, composed at 320x180 (the same 16:9 aspect, so the
whole frame is shown: a fraction x lies at x·320 px).
"""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from pydantic import ValidationError

from installation.compositor import LayerConfig, compose, compose_errors, soft_mask
from installation.compositor.masks import VisitorMasks, shown_part
from installation.compositor.people import HEAD_FADE_IN_S
from installation.perception.visitors import Visitor, Visitors

W, H = 320, 180  # the scene, px
MW, MH = 256, 144  # the analysis size, px
BLACK = np.zeros((H, W, 3), np.uint8)
WHITE = np.full((64, 64, 3), 255, np.uint8)  # the GAN picture


def person(i: int, x: float, y: float, height: float, width: float, age_s: float = 5.0,
           ) -> Visitor:
    """A visitor whose box is centred on (x, y), head at the top of the box."""
    return Visitor(id=i, x=x, y=y, head=(x, y - height / 2), height=height, width=width,
                   age_s=age_s)


def ellipse_mask(*people: Visitor, size: tuple[int, int] = (MW, MH)) -> np.ndarray:
    """A silhouette per visitor: the ellipse filling their box."""
    mw, mh = size
    mask = np.zeros((mh, mw), np.float32)
    for v in people:
        cv2.ellipse(mask, (round(v.x * mw), round(v.y * mh)),
                    (round(v.width * mw / 2), round(v.height * mh / 2)), 0, 0, 360, 1.0, -1)
    return mask


def crowd(*people: Visitor) -> Visitors:
    return Visitors(visitors=people, mask=ellipse_mask(*people))


def inside_ellipse(v: Visitor, shrink_px: float = 0.0) -> np.ndarray:
    """Scene pixels inside the visitor's ellipse, shrunk (or grown, negative) by px."""
    yy, xx = np.mgrid[0:H, 0:W] + 0.5
    rx, ry = v.width * W / 2 - shrink_px, v.height * H / 2 - shrink_px
    return ((xx - v.x * W) / rx) ** 2 + ((yy - v.y * H) / ry) ** 2 <= 1


ALICE = person(1, 0.3, 0.55, 0.6, 0.15)
BOB = person(2, 0.75, 0.5, 0.5, 0.12)


# -- masks: visitor and room ---------------------------------------------------------------


@pytest.mark.parametrize("kind", ["visitor", "room"])
def test_a_masked_layer_changes_only_its_side_of_the_silhouette(kind: str) -> None:
    v = crowd(ALICE, BOB)
    layers = [LayerConfig(), LayerConfig(source="gan", mask=kind, mask_softness_px=9)]
    out = compose(layers, BLACK, WHITE, None, 0.0, visitors=v)
    changed = out.max(axis=2) > 0
    # The feather (a 9 px kernel) reaches ~4 px; the analysis mask's pixels are 1.25 px.
    core = inside_ellipse(ALICE, 8) | inside_ellipse(BOB, 8)
    near = inside_ellipse(ALICE, -8) | inside_ellipse(BOB, -8)
    if kind == "visitor":
        assert changed.any() and not changed[~near].any()  # nothing beyond the feather
        assert (out[core] >= 250).all()  # the silhouettes' cores are all GAN
    else:
        assert not changed[core].any()
        assert (out[~near] >= 250).all()  # the room is all GAN


def test_visitor_and_room_are_complements() -> None:
    v = crowd(ALICE, BOB)
    people = VisitorMasks(v, (W, H))
    visitor, room = people.layer_mask("visitor", 15), people.layer_mask("room", 15)
    assert visitor is not None and room is not None
    np.testing.assert_allclose(visitor + room, 1.0, atol=1e-6)
    assert 0 < visitor.mean() < 1  # both sides exist
    # Composed: the two layers over black add up to the whole GAN picture.
    gan = np.random.default_rng(1).integers(0, 256, (H, W, 3), np.uint8)
    a = compose([LayerConfig(), LayerConfig(source="gan", mask="visitor")], BLACK, gan, None,
                0.0, visitors=v)
    b = compose([LayerConfig(), LayerConfig(source="gan", mask="room")], BLACK, gan, None,
                0.0, visitors=v)
    assert np.abs(a.astype(int) + b.astype(int) - gan.astype(int)).max() <= 1


def test_a_camera_of_another_shape_is_masked_where_the_scene_shows_it() -> None:
    # A 4:3 analysis mask in a 16:9 scene: the scene shows its middle 0.75 of the height.
    part = shown_part((160, 120), (W, H))
    assert part == pytest.approx((0.0, 0.125, 1.0, 0.75))
    mask = np.zeros((120, 160), np.float32)
    mask[:15] = mask[105:] = 1  # only in the bands the scene does not show
    assert soft_mask(mask, (W, H), 0).max() < 0.05
    # A visitor at the middle of the frame's height is at the middle of the scene.
    v = Visitor(id=1, x=0.5, y=0.5, head=(0.5, 0.3), height=0.4, width=0.1, age_s=5.0)
    mask = ellipse_mask(v, size=(160, 120))
    sil = VisitorMasks(Visitors(visitors=(v,), mask=mask), (W, H)).silhouettes(0)
    rows = np.nonzero(sil[:, W // 2] > 0.5)[0]
    # 0.4 of the frame's height is 0.4 / 0.75 of the scene's, centred.
    assert rows.min() == pytest.approx(H / 2 - 0.2 / 0.75 * H, abs=2)
    assert rows.max() == pytest.approx(H / 2 + 0.2 / 0.75 * H, abs=2)


# -- heads -----------------------------------------------------------------------------------


def _heads_layers(min_size_px: int = 40, softness: int = 0) -> list[LayerConfig]:
    return [LayerConfig(), LayerConfig(source="gan", placement="heads", head_scale=0.45,
                                       min_size_px=min_size_px, mask_softness_px=softness)]


def _extent(out: np.ndarray, centre: tuple[float, float], reach: float) -> tuple[int, int]:
    """Width and height of the lit pixels within `reach` px of `centre` (scene px)."""
    lit = out.max(axis=2) > 0
    yy, xx = np.mgrid[0:H, 0:W]
    near = (np.abs(xx + 0.5 - centre[0]) <= reach) & (np.abs(yy + 0.5 - centre[1]) <= reach)
    ys, xs = np.nonzero(lit & near)
    return int(xs.max() - xs.min() + 1), int(ys.max() - ys.min() + 1)


def test_heads_places_the_picture_on_each_head_at_its_size_and_nowhere_else() -> None:
    tall = person(1, 0.3, 0.6, 0.8, 0.2)  # 0.45 × 0.8 × 180 = 64.8 px, head at y 0.2
    far = person(2, 0.8, 0.4, 0.06, 0.02)  # 0.45 × 0.06 × 180 ≈ 5 px: the minimum, 40 px
    out = compose(_heads_layers(min_size_px=40), BLACK, WHITE, None, 0.0,
                  visitors=crowd(tall, far))
    heads_px = [(tall.head[0] * W, tall.head[1] * H), (far.head[0] * W, far.head[1] * H)]
    for (cx, cy), side in zip(heads_px, (64.8, 40.0), strict=True):
        w, h = _extent(out, (cx, cy), side)
        assert w == pytest.approx(side, abs=2) and h == pytest.approx(side, abs=2)
        assert out[round(cy), round(cx)].min() == 255  # the middle is the whole picture
    # Nothing lit beyond the two discs.
    yy, xx = np.mgrid[0:H, 0:W] + 0.5
    discs = np.zeros((H, W), bool)
    for (cx, cy), side in zip(heads_px, (64.8, 40.0), strict=True):
        discs |= np.hypot(xx - cx, yy - cy) <= side / 2 + 1
    assert not (out.max(axis=2) > 0)[~discs].any()


def test_heads_grow_with_the_visitor_and_take_a_picture_squeezed_square() -> None:
    near, nearer = person(1, 0.5, 0.6, 0.6, 0.2), person(1, 0.5, 0.8, 0.9, 0.3)  # heads 0.3, 0.35
    a = compose(_heads_layers(min_size_px=0), BLACK, WHITE, None, 0.0, visitors=crowd(near))
    b = compose(_heads_layers(min_size_px=0), BLACK, WHITE, None, 0.0, visitors=crowd(nearer))
    sa, sb = (a.max(axis=2) > 0).sum(), (b.max(axis=2) > 0).sum()
    assert sb / sa == pytest.approx((0.9 / 0.6) ** 2, rel=0.1)  # area ∝ height²
    # The GAN's square picture arrives stretched to 16:9; red in its left quarter. Squeezed
    # back square, red fills the left quarter of the head (a centre crop would lose it).
    gan = np.zeros((H, W, 3), np.uint8)
    gan[:, : W // 4, 0] = 255
    gan[:, W // 4 :, 2] = 255
    out = compose(_heads_layers(min_size_px=0), BLACK, gan, None, 0.0, visitors=crowd(near))
    cx, cy, side = near.head[0] * W, near.head[1] * H, 0.45 * 0.6 * H
    red, blue = out[round(cy), round(cx - 0.35 * side)], out[round(cy), round(cx + 0.1 * side)]
    assert red[0] == 255 and red[2] == 0
    assert blue[2] == 255 and blue[0] == 0


def test_the_nearest_head_is_in_front() -> None:
    # Two heads overlapping; the GAN picture a left-to-right ramp, so each head's picture
    # reads differently at the same pixel: the taller (nearer) visitor's must be on top.
    far, near = person(1, 0.45, 0.6, 0.5, 0.1), person(2, 0.55, 0.8, 0.9, 0.2)
    ramp = np.repeat(np.linspace(0, 255, W).astype(np.uint8)[None, :, None], H, 0)
    ramp = np.repeat(ramp, 3, axis=2)
    for order in ((far, near), (near, far)):
        v = Visitors(visitors=order, mask=ellipse_mask(far, near))
        out = compose(_heads_layers(min_size_px=0), BLACK, ramp, None, 0.0, visitors=v)
        side = 0.45 * 0.9 * H
        x, y = round(far.head[0] * W), round(far.head[1] * H)  # inside both discs
        expected = (x + 0.5 - (near.head[0] * W - side / 2)) / side * 255
        assert abs(int(out[y, x, 0]) - expected) <= 4


def test_heads_fade_in_as_a_visitor_arrives() -> None:
    def centre(age_s: float) -> int:
        v = person(1, 0.5, 0.6, 0.6, 0.2, age_s=age_s)
        out = compose(_heads_layers(), BLACK, WHITE, None, 0.0, visitors=crowd(v))
        return int(out[round(v.head[1] * H), round(v.head[0] * W), 0])

    assert centre(0.0) == 0  # just arrived: nothing yet (compose returns the camera)
    assert 50 < centre(HEAD_FADE_IN_S / 2) < 205  # halfway in
    assert centre(HEAD_FADE_IN_S) == 255


def test_heads_edge_is_feathered() -> None:
    v = person(1, 0.5, 0.6, 0.8, 0.2)
    out = compose(_heads_layers(softness=16), BLACK, WHITE, None, 0.0, visitors=crowd(v))
    cx, cy = v.head[0] * W, v.head[1] * H
    r = 0.45 * 0.8 * H / 2
    row = out[round(cy), :, 0].astype(int)
    # From the middle outwards: whole, then ramping down over ~8 px, then nothing.
    assert row[round(cx)] == 255 and row[round(cx + r - 12)] == 255
    assert 0 < row[round(cx + r - 4)] < 255
    assert row[round(cx + r + 1)] == 0


# -- silhouettes -----------------------------------------------------------------------------


def test_silhouettes_fill_the_box_through_the_mask_only() -> None:
    v = person(1, 0.4, 0.5, 0.7, 0.2)
    mask = ellipse_mask(v)
    # A blob in the mask that is nobody's (no track): the GAN must not go there.
    cv2.circle(mask, (round(0.85 * MW), round(0.5 * MH)), 12, 1.0, -1)
    gan = np.zeros((H, W, 3), np.uint8)
    gan[:, : W // 4, 0] = 255  # red on the left quarter: stretched, a quarter of the box
    gan[:, W // 4 :, 2] = 255
    soft = 7
    layers = [LayerConfig(), LayerConfig(source="gan", placement="silhouettes",
                                         mask_softness_px=soft)]
    out = compose(layers, BLACK, gan, None, 0.0, visitors=Visitors(visitors=(v,), mask=mask))
    lit = out.max(axis=2) > 0
    assert not lit[~inside_ellipse(v, -soft)].any()  # box ∩ feathered mask, nothing else
    core = inside_ellipse(v, soft)
    assert (out[core].max(axis=1) >= 250).all()
    # The picture is stretched over the box: red on its left quarter, blue beyond.
    left, bw, cy = (v.x - v.width / 2) * W, v.width * W, round(v.y * H)
    red, blue = out[cy, round(left + 0.15 * bw)], out[cy, round(left + 0.5 * bw)]
    assert red[0] == 255 and red[2] == 0
    assert blue[2] == 255 and blue[0] == 0


# -- nobody there ----------------------------------------------------------------------------


NOBODY = [None, Visitors(), Visitors(visitors=(), mask=np.zeros((MH, MW), np.float32))]


@pytest.mark.parametrize("visitors", NOBODY, ids=["none", "before-first", "empty"])
@pytest.mark.parametrize("layer", [
    LayerConfig(source="gan", placement="heads"),
    LayerConfig(source="gan", placement="silhouettes"),
    LayerConfig(source="gan", mask="visitor"),
], ids=["heads", "silhouettes", "visitor"])
def test_nobody_there_leaves_the_camera_as_it_is(visitors: Visitors | None,
                                                  layer: LayerConfig) -> None:
    camera = np.random.default_rng(2).integers(0, 256, (H, W, 3), np.uint8)
    out = compose([LayerConfig(), layer], camera, WHITE, None, 0.0, visitors=visitors)
    np.testing.assert_array_equal(out, camera)


@pytest.mark.parametrize("visitors", NOBODY, ids=["none", "before-first", "empty"])
def test_nobody_there_shows_the_room_layer_everywhere(visitors: Visitors | None) -> None:
    layers = [LayerConfig(), LayerConfig(source="gan", mask="room")]
    out = compose(layers, BLACK, WHITE, None, 0.0, visitors=visitors)
    assert (out == 255).all()


# -- the raw camera ---------------------------------------------------------------------------


def test_raw_source_shows_the_camera_as_it_is_around_painted_visitors() -> None:
    painted = np.full((H, W, 3), 40, np.uint8)
    raw = np.full((720, 1280, 3), 200, np.uint8)  # the capture, larger: covered to the scene
    v = crowd(ALICE)
    layers = [LayerConfig(source="raw"), LayerConfig(source="camera", mask="visitor")]
    out = compose(layers, painted, None, None, 0.0, visitors=v, raw=raw)
    assert (out[inside_ellipse(ALICE, 8)] == 40).all()  # the visitor painted
    assert (out[~inside_ellipse(ALICE, -8)] == 200).all()  # the room as it is
    # No raw picture passed: the painted one stands in.
    np.testing.assert_array_equal(compose(layers, painted, None, None, 0.0, visitors=v),
                                  painted)


# -- what the config takes -------------------------------------------------------------------


def test_layer_fields_for_visitors_are_validated() -> None:
    layer = LayerConfig(source="raw", mask="room", placement="heads", head_scale=0.3,
                        min_size_px=24)
    assert (layer.source, layer.mask, layer.placement) == ("raw", "room", "heads")
    assert LayerConfig().mask == "none"  # no mask unless asked: existing scenes unchanged
    for bad in ({"mask": "people"}, {"placement": "faces"}, {"source": "video"},
                {"head_scale": 0.0}, {"head_scale": 2.5}, {"min_size_px": -1},
                {"min_size_px": 5000}, {"mask_softness_px": 102}, {"head_scale": float("nan")},
                {"masks": "visitor"}):
        with pytest.raises(ValidationError) as err:
            LayerConfig.model_validate(bad)
        assert next(iter(bad)) in str(err.value)


# -- not finite --------------------------------------------------------------------------------


def test_a_mask_that_is_not_finite_shows_the_camera_and_is_counted() -> None:
    v = crowd(ALICE)
    v.mask[10:20, 10:20] = np.nan
    camera = np.full((H, W, 3), 90, np.uint8)
    before = compose_errors()
    for kind in ("visitor", "room"):
        layers = [LayerConfig(), LayerConfig(source="gan", mask=kind)]
        assert compose(layers, camera, WHITE, None, 0.0, visitors=v) is camera
    assert compose_errors() == before + 2


def test_a_visitor_that_is_not_finite_shows_the_camera_and_is_counted() -> None:
    bad = Visitor(id=1, x=0.5, y=0.5, head=(float("nan"), 0.3), height=0.4, width=0.1)
    camera = np.full((H, W, 3), 90, np.uint8)
    before = compose_errors()
    out = compose(_heads_layers(), camera, WHITE, None, 0.0,
                  visitors=Visitors(visitors=(bad,), mask=np.zeros((MH, MW), np.float32)))
    assert out is camera and compose_errors() == before + 1
