from book.results import README, readme_with_results


def test_readme_results_table_matches_results_files():
    text = README.read_text()
    assert text == readme_with_results(text), (
        "README's generated tables differ from results/: run python -m book.results"
    )
