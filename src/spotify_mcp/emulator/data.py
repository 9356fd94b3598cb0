"""The fake world's fixed content: test users, artists, albums with their tracks, playlists, devices.

Dates that must stay "recent" are given in days before the world's creation; everything else is fixed.
"""

from __future__ import annotations

from dataclasses import dataclass

PREMIUM_USER = "premium-user"
FREE_USER = "free-user"
UNLISTED_USER = "unlisted-user"
CURATOR = "sam-curator"


@dataclass(frozen=True)
class UserSpec:
    """A Spotify account; ``test_user`` ones can sign in on the emulator's login page."""

    id: str
    display_name: str
    product: str
    test_user: bool = True


@dataclass(frozen=True)
class ArtistSpec:
    """An artist; genres are kept for the ``genre:`` search filter but no longer returned (dev mode)."""

    key: str
    name: str
    genres: tuple[str, ...]


@dataclass(frozen=True)
class TrackSpec:
    """A track on an album: name, length in seconds, explicit flag, and featured artist keys."""

    name: str
    seconds: int
    explicit: bool = False
    featuring: tuple[str, ...] = ()


@dataclass(frozen=True)
class AlbumSpec:
    """An album; ``released`` is an ISO date or, for new releases, an int of days before world creation."""

    key: str
    name: str
    artists: tuple[str, ...]
    album_type: str
    released: str | int
    tracks: tuple[TrackSpec, ...]
    hipster: bool = False


@dataclass(frozen=True)
class PlaylistSpec:
    """A playlist; ``tracks`` are (album key, track number) pairs, added by the owner and collaborators."""

    key: str
    name: str
    owner: str
    public: bool
    description: str
    tracks: tuple[tuple[str, int], ...]
    collaborative: bool = False
    collaborators: tuple[str, ...] = ()
    followers: int = 0
    custom_image: bool = False


@dataclass(frozen=True)
class DeviceSpec:
    """A Spotify Connect device of a user."""

    owner: str
    name: str
    type: str
    volume: int | None
    active: bool = False
    private_session: bool = False
    restricted: bool = False


USERS = (
    UserSpec(PREMIUM_USER, "Pia Premium", "premium"),
    UserSpec(FREE_USER, "Frank Free", "free"),
    UserSpec(UNLISTED_USER, "Nora Notlisted", "premium"),
    UserSpec(CURATOR, "Sam Curator", "premium", test_user=False),
)

ARTISTS = (
    ArtistSpec("owls", "The Midnight Owls", ("indie rock", "dream pop")),
    ArtistSpec("luna", "Luna Vega", ("pop", "synth-pop")),
    ArtistSpec("kofi", "Kofi Mensah Quartet", ("jazz", "afro-jazz")),
    ArtistSpec("polaris", "DJ Polaris", ("electronic", "house")),
    ArtistSpec("marta", "Marta Rossi", ("folk", "italian folk")),
    ArtistSpec("bloom", "Static Bloom", ("shoegaze",)),
)

T = TrackSpec
ALBUMS = (
    AlbumSpec(
        "nocturne",
        "Nocturne Avenue",
        ("owls",),
        "album",
        "2019-10-04",
        (
            T("Streetlight Serenade", 214),
            T("Owl Eyes", 187),
            T("Nocturne Avenue", 251),
            T("Last Bus Home", 199),
        ),
    ),
    AlbumSpec(
        "feathers",
        "Feathers & Static",
        ("owls",),
        "album",
        5,
        (T("Feathers", 203), T("Static Hearts", 228, explicit=True), T("Moth to the Flame", 241)),
    ),
    AlbumSpec(
        "satellites",
        "Glass Satellites",
        ("luna",),
        "album",
        "2021-03-12",
        (
            T("Glass Satellites", 196),
            T("Neon Tide", 183, featuring=("polaris",)),
            T("Zero Gravity Love", 174),
            T("Signal Lost", 205),
            T("Afterglow", 221),
        ),
    ),
    AlbumSpec("orbit", "Orbit", ("luna",), "single", 10, (T("Orbit", 169), T("Orbit - Acoustic", 181))),
    AlbumSpec(
        "harmattan",
        "Blue Harmattan",
        ("kofi",),
        "album",
        "1998-05-18",
        (T("Harmattan Blues", 402), T("Accra at Dawn", 356), T("Kente Swing", 311), T("Ghana Road", 377)),
    ),
    AlbumSpec(
        "northern",
        "Northern Lights EP",
        ("polaris",),
        "single",
        "2015-11-20",
        (T("Aurora", 312), T("Polar Night", 298, explicit=True), T("Magnetic North", 335)),
    ),
    AlbumSpec(
        "olive",
        "Olive Groves",
        ("marta",),
        "album",
        "2008-06-01",
        (T("Olive Groves", 223), T("Tramontana", 247), T("La Luna sul Mare", 265), T("Harvest Song", 208)),
    ),
    AlbumSpec(
        "dust",
        "Dust & Reverb",
        ("bloom",),
        "album",
        40,
        (T("Dust", 274), T("Reverb Garden", 301), T("Blur the Lines", 288, featuring=("owls",))),
        hipster=True,
    ),
    AlbumSpec(
        "summer",
        "Summer Sessions",
        ("luna", "polaris"),
        "compilation",
        "2023-07-07",
        (T("Sunset Boulevard", 215), T("Poolside", 190)),
    ),
)

PLAYLISTS = (
    PlaylistSpec(
        "roadtrip",
        "Pia's Road Trip",
        PREMIUM_USER,
        public=True,
        description="Windows down, volume up.",
        tracks=(
            ("satellites", 1),
            ("nocturne", 1),
            ("northern", 1),
            ("feathers", 2),
            ("olive", 2),
            ("orbit", 1),
            ("satellites", 2),
            ("nocturne", 4),
            ("summer", 1),
            ("dust", 3),
            ("harmattan", 3),
            ("satellites", 5),
        ),
        followers=3,
    ),
    PlaylistSpec(
        "focus",
        "Late Night Focus",
        PREMIUM_USER,
        public=False,
        description="Quiet things for deep work.",
        tracks=(
            ("harmattan", 1),
            ("harmattan", 2),
            ("olive", 3),
            ("dust", 2),
            ("nocturne", 3),
            ("northern", 3),
        ),
        custom_image=True,
    ),
    PlaylistSpec(
        "party",
        "Shared Party Mix",
        FREE_USER,
        public=False,
        description="Everyone adds a banger.",
        tracks=(
            ("summer", 2),
            ("satellites", 3),
            ("northern", 2),
            ("orbit", 1),
            ("feathers", 1),
            ("summer", 1),
        ),
        collaborative=True,
        collaborators=(PREMIUM_USER,),
    ),
    PlaylistSpec(
        "jazz",
        "Jazz Classics",
        CURATOR,
        public=True,
        description="Timeless grooves, hand-picked.",
        tracks=(("harmattan", 1), ("harmattan", 2), ("harmattan", 3), ("harmattan", 4)),
        followers=1204,
    ),
    PlaylistSpec(
        "stash",
        "Sam's Secret Stash",
        CURATOR,
        public=False,
        description="Not for you.",
        tracks=(("dust", 1), ("dust", 2)),
    ),
    PlaylistSpec(
        "franks",
        "Frank's Favourites",
        FREE_USER,
        public=True,
        description="",
        tracks=(("nocturne", 2), ("olive", 1), ("orbit", 2), ("satellites", 4), ("northern", 1)),
    ),
    PlaylistSpec(
        "mixtape",
        "Nora's Mixtape",
        UNLISTED_USER,
        public=True,
        description="A little of everything.",
        tracks=(("olive", 4), ("feathers", 3), ("summer", 2)),
    ),
)

FOLLOWED_PLAYLISTS: dict[str, tuple[str, ...]] = {
    PREMIUM_USER: ("roadtrip", "focus", "party", "jazz"),
    FREE_USER: ("franks", "party"),
    UNLISTED_USER: ("mixtape",),
    CURATOR: ("jazz", "stash"),
}

DEVICES = (
    DeviceSpec(PREMIUM_USER, "Pia's MacBook", "Computer", 62, active=True),
    DeviceSpec(PREMIUM_USER, "Kitchen Speaker", "Speaker", 35),
    DeviceSpec(PREMIUM_USER, "Pia's iPhone", "Smartphone", None),
    DeviceSpec(FREE_USER, "Frank's Android", "Smartphone", 80),
    DeviceSpec(UNLISTED_USER, "Nora's Web Player", "Computer", 100),
)

SAVED_TRACKS: dict[str, tuple[tuple[str, int], ...]] = {
    PREMIUM_USER: (
        ("satellites", 2),
        ("nocturne", 1),
        ("feathers", 2),
        ("olive", 3),
        ("harmattan", 1),
        ("northern", 1),
        ("orbit", 1),
        ("dust", 3),
    ),
    FREE_USER: (("orbit", 2), ("olive", 1)),
    UNLISTED_USER: (("olive", 4),),
}
"""Liked Songs as (album key, track number), most recently saved first, one day apart."""

SAVED_ALBUMS: dict[str, tuple[str, ...]] = {
    PREMIUM_USER: ("nocturne", "harmattan", "satellites"),
    FREE_USER: ("olive",),
}
"""Saved albums by key, most recently saved first, one week apart."""

FOLLOWED_ARTISTS: dict[str, tuple[str, ...]] = {
    PREMIUM_USER: ("owls", "luna", "kofi"),
    FREE_USER: ("marta",),
}
"""Followed artists by key."""
