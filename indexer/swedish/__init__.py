"""Swedish language knowledge in one place, for the indexer and the assistant alike.

- `lemmas`: base forms of words (simplemma, MIT, offline), cached.
- `stopwords`: the Snowball Swedish stop list.
- `dates`: month names and date patterns.
- `amounts`: amounts of money, percentages and other answer-shaped numbers.
- `reference`: sentences that open by pointing back to the sentence before.

Modules elsewhere import from here rather than keeping their own lists.
"""
