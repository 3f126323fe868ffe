"""Text processing with spaCy: sentences, tracked-phrase hits and citation mentions per document.

The pipeline (``build_nlp``) is ``spacy.blank("en")`` + ``sentencizer`` + ``lemmatizer`` (mode
"lookup", spacy-lookups-data's table) + two ``entity_ruler`` components (case-insensitive on
LOWER and case-sensitive on ORTH) for citation entities + ``tracked_phrases`` (PhraseMatchers
on LOWER / ORTH and a token ``Matcher`` for the lexicon's patterns), which puts the hits in
``doc.spans["phrases"]``. No trained model is needed. The sentencizer and lemmatizer are
subclasses of spaCy's own (``FastSentencizer``, ``LookupLemmatizer``) that give the same
answers (tested) from ``doc.to_array`` instead of one Python ``Token`` per token. The lemmatizer
runs only when a phrase's token pattern reads ``LEMMA`` (``uses_lemmas``), and the entity rulers
(``CiteRuler``) leave a document they match nothing in untouched. The whole pipeline runs at about
300K words/s on one core, the tokenizer being most of it.

``processor.TextProcessor.process`` turns (text, caption spans) pairs into ``DocResult``s with character
offsets into the *original* text:

* Whitespace is normalised before tokenising (a line break or a run of spaces inside a
  paragraph becomes one space, a blank line stays a paragraph break) so "from\\nscratch"
  still matches; offsets are mapped back, so ``text[start:end]`` is always the passage.
* Sentences come from the sentencizer, also end at paragraph breaks, and are capped at
  ``max_sentence_words`` words (split into even chunks).
* Caption-like text (fewer than one sentence-final punctuation mark per
  ``CAPTION_WORDS_PER_PUNCT`` words, e.g. auto-generated YouTube captions) is split into
  pseudo-sentences along the caption segments (a pause or ``caption_max_words`` words closes
  one) or, without segments, into chunks of at most ``caption_max_words`` words.
* Entity mentions from a weak alias count only if the sentence has a ``require_context``
  word; matches of ``exclude`` phrases swallow the alias they contain and are dropped.

``cache.process_documents`` runs it over the warehouse's ``documents`` incrementally: results are
cached per (document text sha256, segment layout, lexicon hash, ``CODE_VERSION``) in
``NlpCache`` tables, so a re-run processes only new or changed documents.
"""
