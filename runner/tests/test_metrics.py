"""Task metrics: our code on fixed inputs, and our wrappers of sacrebleu and
rouge-score against the examples those libraries publish (their README and test
files). The library checks skip, saying why, where the package is missing; the
missing-package report is tested with an importer that fails."""

import importlib
import importlib.util
import unittest

from tunelab_runner import doctor, metrics as M


def importable(module):
    try:
        importlib.import_module(module)
        return True
    except Exception:  # noqa: BLE001
        return False


HAVE_SACREBLEU = importable("sacrebleu")
HAVE_ROUGE = importable("rouge_score.rouge_scorer")
HAVE_JSONSCHEMA = importable("jsonschema.validators")


class ExactMatchAndJson(unittest.TestCase):
    def test_exact_match_strips_whitespace_only(self):
        self.assertTrue(M.exact_match("  Yes, it is.\n", "Yes, it is."))
        self.assertFalse(M.exact_match("yes, it is.", "Yes, it is."))
        out = M.compute(["a", " b ", "c"], ["a", "b", "d"], ["exact_match"])
        self.assertAlmostEqual(out["metrics"]["exact_match"], 2 / 3)
        self.assertEqual(out["missing"], [])

    def test_json_valid_share(self):
        preds = ['{"plan": "5G", "price": 20}', "```json\n[1, 2]\n```", "null", "{plan: 5G}", "Sure! {}"]
        out = M.compute(preds, [""] * len(preds), ["json_valid"])
        self.assertAlmostEqual(out["metrics"]["json_valid"], 3 / 5)

    @unittest.skipUnless(HAVE_JSONSCHEMA, "jsonschema is not installed (apt install python3-jsonschema)")
    def test_json_schema_share(self):
        schema = {"type": "object", "required": ["plan"], "properties": {"plan": {"type": "string"},
                                                                          "price": {"type": "number"}}}
        preds = ['{"plan": "5G", "price": 20}', '{"plan": 5}', '{"price": 3}', "not json"]
        out = M.compute(preds, [""] * 4, ["json_schema", "json_valid"], json_schema=schema)
        self.assertAlmostEqual(out["metrics"]["json_schema"], 1 / 4)
        self.assertAlmostEqual(out["metrics"]["json_valid"], 3 / 4)

    def test_json_schema_needs_a_schema(self):
        if not HAVE_JSONSCHEMA:
            self.skipTest("jsonschema is not installed (apt install python3-jsonschema)")
        with self.assertRaises(ValueError):
            M.compute(["{}"], [""], ["json_schema"])

    def test_unknown_metric_is_an_error(self):
        with self.assertRaisesRegex(ValueError, "unknown metric"):
            M.compute(["a"], ["a"], ["accuracy"])


class MissingPackages(unittest.TestCase):
    def test_each_missing_package_is_reported_and_the_rest_still_run(self):
        blocked = ("sacrebleu", "rouge_score", "jsonschema")

        def importer(name):
            if name.split(".")[0] in blocked:
                raise ImportError(f"No module named {name!r}")
            return importlib.import_module(name)

        out = M.compute(['{"a": 1}', "b"], ['{"a": 1}', "c"], list(M.METRICS), json_schema={"type": "object"},
                        importer=importer)
        self.assertEqual(set(out["metrics"]), {"exact_match", "json_valid"})
        self.assertAlmostEqual(out["metrics"]["exact_match"], 0.5)
        self.assertEqual([m["metric"] for m in out["missing"]], ["chrf", "bleu", "rouge_l", "json_schema"])
        by_metric = {m["metric"]: m for m in out["missing"]}
        self.assertEqual(by_metric["bleu"]["install"], "pip install sacrebleu")
        self.assertEqual(by_metric["rouge_l"]["install"], "pip install rouge-score")
        self.assertEqual(by_metric["json_schema"]["install"], "pip install jsonschema")

    def test_a_broken_package_counts_as_missing(self):
        def importer(name):
            if name.startswith("sacrebleu"):
                raise OSError("libsomething.so: cannot open shared object file")
            return importlib.import_module(name)

        out = M.compute(["a"], ["a"], ["bleu", "exact_match"], importer=importer)
        self.assertEqual(out["metrics"], {"exact_match": 1.0})
        self.assertEqual(out["missing"][0]["package"], "sacrebleu")

    def test_doctor_lists_the_optional_packages_with_install_commands(self):
        report = doctor.report(find_spec=lambda m: None if m in ("sacrebleu", "lm_eval") else
                               importlib.util.find_spec("json"), smi=lambda: None)
        optional = report["optional"]
        self.assertEqual(set(optional), {"sacrebleu", "rouge-score", "jsonschema", "lm-eval"})
        self.assertIsNone(optional["sacrebleu"]["version"])
        self.assertEqual(optional["sacrebleu"]["install"], "pip install sacrebleu")
        self.assertEqual(optional["lm-eval"]["install"], "pip install lm-eval")
        self.assertIsNotNone(optional["rouge-score"]["version"])
        self.assertIsNone(optional["rouge-score"]["install"])


# sacrebleu's README example (also its test_bleu.py): two reference streams give
# BLEU 48.53; we score one reference per sample, so these use one stream each
# from its test files, whose expected values are printed there.
BLEU_README_HYPS = ["The dog bit the man.", "It wasn't surprising.", "The man had just bitten him."]


@unittest.skipUnless(HAVE_SACREBLEU, "sacrebleu is not installed (pip install sacrebleu; "
                     "not in Debian: put its source on PYTHONPATH to run these)")
class SacrebleuPublishedExamples(unittest.TestCase):
    def test_chrf_examples_from_sacrebleu_tests(self):
        # test/test_chrf.py, test_cases_effective_order: corpus chrF without epsilon
        # smoothing, the library's default (its beta 3 there does not matter: each
        # case has precision = recall, so every beta gives the same F)
        cases = [
            (["a"], ["a"], 100.0),
            ([""], ["reference"], 0.0),
            (["a b c"], ["a b c"], 100.0),
            (["a b c"], ["abc"], 100.0),
            (["a", "b"], ["a", "c"], 50.0),
            (["aa"], ["ab"], 25.0),
        ]
        for hyps, refs, expected in cases:
            with self.subTest(hyps=hyps):
                out = M.compute(hyps, refs, ["chrf"])
                self.assertAlmostEqual(out["metrics"]["chrf"], expected, places=4)

    def test_bleu_of_one_sentence_pair_by_hand(self):
        # "this is a fest" vs "this is a test" (test_bleu.py's pair): n-gram precisions
        # 3/4, 2/3, 1/2 and 0/1, the last one smoothed by sacrebleu's default "exp"
        # method to 1/2; same length, so no brevity penalty
        out = M.compute(["this is a fest"], ["this is a test"], ["bleu"])
        self.assertAlmostEqual(out["metrics"]["bleu"], 100 * (3 / 4 * 2 / 3 * 1 / 2 * 1 / 2) ** 0.25, places=6)
        self.assertAlmostEqual(M.compute(["this is a test"], ["this is a test"], ["bleu"])["metrics"]["bleu"], 100.0)
        # test_corpus_bleu_cases: empty hypotheses are scored (0), not dropped
        self.assertEqual(M.compute(["", "", ""], ["a b", "c d", "e f"], ["bleu"])["metrics"]["bleu"], 0.0)

    def test_bleu_readme_corpus_equals_the_library_with_one_reference_stream(self):
        import sacrebleu
        refs = ["The dog bit the man.", "It was not unexpected.", "The man bit him first."]
        expected = sacrebleu.corpus_bleu(BLEU_README_HYPS, [refs]).score
        self.assertAlmostEqual(M.compute(BLEU_README_HYPS, refs, ["bleu"])["metrics"]["bleu"], expected)
        # and the README's two-stream figure, to show the library is the published one
        refs2 = ["The dog had bit the man.", "No one was surprised.", "The man had bitten the dog."]
        self.assertAlmostEqual(sacrebleu.corpus_bleu(BLEU_README_HYPS, [refs, refs2]).score, 48.530827, places=5)


@unittest.skipUnless(HAVE_ROUGE, "rouge-score is not installed (pip install rouge-score; "
                     "not in Debian: put its source and nltk/absl on PYTHONPATH to run these)")
class RougePublishedExamples(unittest.TestCase):
    def test_rouge_l_examples_from_rouge_scorer_test(self):
        # rouge_scorer_test.py: testRougeLConsecutive / testRougeLNonConsecutive: F = 4/5
        self.assertAlmostEqual(M.compute(["testing one"], ["testing one two"], ["rouge_l"])["metrics"]["rouge_l"], 0.8)
        self.assertAlmostEqual(M.compute(["testing two"], ["testing one two"], ["rouge_l"])["metrics"]["rouge_l"], 0.8)

    def test_rouge_l_is_the_mean_over_samples_with_reference_first(self):
        # the library's docstring example: target "The quick brown fox jumps over the lazy dog",
        # prediction "The quick brown dog jumps on the log." -> P 5/8, R 5/9
        pred, ref = "The quick brown dog jumps on the log.", "The quick brown fox jumps over the lazy dog"
        f = 2 * (5 / 8) * (5 / 9) / (5 / 8 + 5 / 9)
        out = M.compute([pred, "testing one"], [ref, "testing one two"], ["rouge_l"])
        self.assertAlmostEqual(out["metrics"]["rouge_l"], (f + 0.8) / 2)


if __name__ == "__main__":
    unittest.main()
