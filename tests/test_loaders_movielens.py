"""MovieLens loaders on tiny fixtures written in each raw layout, and on the real default."""

from __future__ import annotations

import re

import pytest

from llmemb_utils.config import SourceConfig
from llmemb_utils.data.loaders import load_raw
from llmemb_utils.data.movielens import split_title
from llmemb_utils.data.schema import DataFormatError

FLAGS_COMEDY_DRAMA = "|".join("1" if i in (5, 8) else "0" for i in range(19))
FLAGS_UNKNOWN_ONLY = "|".join("1" if i == 0 else "0" for i in range(19))


def movielens(path, **fields) -> SourceConfig:
    return SourceConfig(format="movielens", asset=None, path=str(path), **fields)


@pytest.mark.parametrize(("raw", "title", "year"), [
    ("Toy Story (1995)", "Toy Story", 1995),
    ("Usual Suspects, The (1995)", "The Usual Suspects", 1995),
    ("Good, The Bad and The Ugly, The (1966)", "The Good, The Bad and The Ugly", 1966),
    ("City of Lost Children, The (Cité des enfants perdus, La) (1995)",
     "The City of Lost Children (Cité des enfants perdus, La)", 1995),
    ("Auberge espagnole, L' (2002)", "L'Auberge espagnole", 2002),
    ("Babylon 5", "Babylon 5", None),
    ("Fawlty Towers (1975-1979)", "Fawlty Towers", 1975),
])
def test_split_title(raw, title, year):
    assert split_title(raw) == (title, year)


def test_ml100k_fixture(tmp_path, write_lines):
    write_lines("u.data", ["196\t242\t3\t881250949", "186\t302\t4\t891717742",
                           "196\t302\t5\t881250950"])
    write_lines("u.item", [
        f"242|Kolya (1996)|24-Jan-1997||http://us.imdb.com/M/title-exact?Kolya%20(1996)|"
        f"{FLAGS_COMEDY_DRAMA}",
        f"302|Misérables, Les|01-Jan-1995||x|{FLAGS_UNKNOWN_ONLY}",
        f"267|unknown||||{FLAGS_UNKNOWN_ONLY}",
    ], encoding="latin-1")

    raw = load_raw(movielens(tmp_path))

    assert raw.source == "movielens-100k"
    assert raw.interactions.to_dict("list") == {
        "user": ["196", "186", "196"], "item": ["242", "302", "302"],
        "timestamp": [881250949, 891717742, 881250950], "rating": [3.0, 4.0, 5.0]}
    assert list(raw.items.columns) == ["item", "title", "year", "genres"]
    assert raw.items.to_dict("records") == [
        {"item": "242", "title": "Kolya", "year": 1996, "genres": ["Comedy", "Drama"]},
        {"item": "302", "title": "Les Misérables", "year": 1995, "genres": []},
        {"item": "267", "title": "unknown", "year": None, "genres": []},
    ]
    assert set(raw.files) == {str(tmp_path / "u.data"), str(tmp_path / "u.item")}
    assert all(len(digest) == 64 for digest in raw.files.values())


def test_ml1m_fixture(tmp_path, write_lines):
    write_lines("ratings.dat", ["1::1193::5::978300760", "2::1193::4::978298413"])
    write_lines("movies.dat", ["1193::One Flew Over the Cuckoo's Nest (1975)::Drama",
                               "919::Wizard of Oz, The (1939)::Adventure|Children's|Drama"],
                encoding="latin-1")

    raw = load_raw(movielens(tmp_path))

    assert raw.source == "movielens-1m"
    assert raw.interactions["timestamp"].tolist() == [978300760, 978298413]
    assert raw.interactions["rating"].tolist() == [5.0, 4.0]
    assert raw.items.to_dict("records") == [
        {"item": "1193", "title": "One Flew Over the Cuckoo's Nest", "year": 1975,
         "genres": ["Drama"]},
        {"item": "919", "title": "The Wizard of Oz", "year": 1939,
         "genres": ["Adventure", "Children's", "Drama"]},
    ]


def test_latest_fixture_with_tags(tmp_path, write_lines):
    write_lines("ratings.csv", ["userId,movieId,rating,timestamp", "1,1,4.0,964982703",
                                "1,2,3.5,964981247", "2,1,0.5,1445714835"])
    write_lines("movies.csv", ["movieId,title,genres",
                               "1,Toy Story (1995),Adventure|Animation|Children",
                               '2,"American President, The (1995)",Comedy|Drama|Romance',
                               "3,Some Film,(no genres listed)"])
    write_lines("tags.csv", ["userId,movieId,tag,timestamp", "1,1,pixar,1", "2,1,Funny,2",
                             "3,1,funny,3", "4,1,  Pixar ,4", "5,1,fun,5", "5,1,funny,6",
                             "5,2,politics,7"])

    raw = load_raw(movielens(tmp_path))

    assert raw.source == "movielens-latest"
    assert raw.interactions.to_dict("list") == {
        "user": ["1", "1", "2"], "item": ["1", "2", "1"],
        "timestamp": [964982703, 964981247, 1445714835], "rating": [4.0, 3.5, 0.5]}
    assert list(raw.items.columns) == ["item", "title", "year", "genres", "tags"]
    assert raw.items.to_dict("records") == [
        {"item": "1", "title": "Toy Story", "year": 1995,
         "genres": ["Adventure", "Animation", "Children"], "tags": ["Funny", "pixar", "fun"]},
        {"item": "2", "title": "The American President", "year": 1995,
         "genres": ["Comedy", "Drama", "Romance"], "tags": ["politics"]},
        {"item": "3", "title": "Some Film", "year": None, "genres": [], "tags": []},
    ]
    assert len(raw.files) == 3


def test_latest_without_tags_has_no_tag_column(tmp_path, write_lines):
    write_lines("ratings.csv", ["userId,movieId,rating,timestamp", "1,1,4.0,964982703"])
    write_lines("movies.csv", ["movieId,title,genres", "1,Toy Story (1995),Animation"])
    assert list(load_raw(movielens(tmp_path)).items.columns) == ["item", "title", "year", "genres"]


def test_unknown_folder_lists_expected_files(tmp_path, write_lines):
    write_lines("ratings.txt", ["1 2 3"])
    with pytest.raises(DataFormatError, match=r"not a MovieLens folder; expected one of: "
                       r"u\.data \+ u\.item \(100k\); .*found \['ratings\.txt'\]"):
        load_raw(movielens(tmp_path))


def test_missing_folder(tmp_path):
    with pytest.raises(DataFormatError, match="MovieLens folder not found"):
        load_raw(movielens(tmp_path / "nowhere"))


def test_forced_layout_names_missing_file(tmp_path, write_lines):
    write_lines("u.data", ["1\t2\t3\t4"])
    with pytest.raises(DataFormatError, match=r"u\.item: file not found \(expected MovieLens-100k "
                                              r"files u\.data \+ u\.item\)"):
        load_raw(movielens(tmp_path, version="100k"))


def test_malformed_line_names_file_and_line(tmp_path, write_lines):
    data = write_lines("u.data", ["1\t2\t3\t881250949", "1\t3\tfour\t881250949", "1\t4\t5"])
    write_lines("u.item", [f"2|A (1990)|||x|{FLAGS_UNKNOWN_ONLY}"])
    with pytest.raises(DataFormatError, match=re.escape(f"{data}:2: ValueError: could not "
                                                        "convert string to float: 'four'")):
        load_raw(movielens(tmp_path))

    raw = load_raw(movielens(tmp_path, skip_malformed=True))
    assert raw.skipped_lines == 2
    assert raw.interactions["item"].tolist() == ["2"]


def test_bad_genre_flags(tmp_path, write_lines):
    write_lines("u.data", ["1\t2\t3\t881250949"])
    item = write_lines("u.item", ["2|A (1990)|||x|" + "|".join("2" * 19)])
    with pytest.raises(DataFormatError, match=rf"^{re.escape(str(item))}:1: ValueError: genre "
                                              "flags must be 0 or 1"):
        load_raw(movielens(tmp_path))


def test_latest_missing_column_and_bad_value(tmp_path, write_lines):
    ratings = write_lines("ratings.csv", ["userId,movieId,stars,timestamp", "1,1,4.0,9"])
    write_lines("movies.csv", ["movieId,title,genres", "1,Toy Story (1995),Animation"])
    with pytest.raises(DataFormatError, match=rf"^{re.escape(str(ratings))}: missing column\(s\) "
                       r"\['rating'\]; found \['userId', 'movieId', 'stars', 'timestamp'\]"):
        load_raw(movielens(tmp_path))

    write_lines("ratings.csv", ["userId,movieId,rating,timestamp", "1,1,4.0,9", "1,2,4.0,yesterday",
                                "1,3,1.0,5,extra"])
    with pytest.raises(DataFormatError, match=re.escape(f"{ratings}:4: Error tokenizing data")):
        load_raw(movielens(tmp_path))
    write_lines("ratings.csv", ["userId,movieId,rating,timestamp", "1,1,4.0,9",
                                "1,2,4.0,yesterday"])
    with pytest.raises(DataFormatError, match=re.escape(f"{ratings}:3: column 'timestamp': "
                                                        "'yesterday' is not a number")):
        load_raw(movielens(tmp_path))

    write_lines("ratings.csv", ["userId,movieId,rating,timestamp", "1,1,4.0,9", "1,2,4.0,yesterday",
                                "1,3,1.0,5,extra"])
    raw = load_raw(movielens(tmp_path, skip_malformed=True))
    assert raw.skipped_lines == 2
    assert raw.interactions["item"].tolist() == ["1"]


def test_real_ml100k_default(tmp_path, monkeypatch):
    monkeypatch.setenv("LLMEMB_CACHE", str(tmp_path))
    raw = load_raw(SourceConfig())

    assert raw.counts() == {"users": 943, "items": 1682, "interactions": 100000}
    assert len(raw.items) == 1682
    assert raw.interactions["timestamp"].dtype == "int64"
    toy_story = raw.items.set_index("item").loc["1"]
    assert (toy_story["title"], toy_story["year"]) == ("Toy Story", 1995)
    assert toy_story["genres"] == ["Animation", "Children's", "Comedy"]
    assert raw.items.set_index("item").loc["12", "title"] == "The Usual Suspects"
