import unittest

from tunelab_runner import templates as T

CONV = [
    {"role": "system", "content": "You are the support assistant of Acme Telecom."},
    {"role": "user", "content": "My internet is down since this morning."},
    {"role": "assistant", "content": "Sorry to hear that. Did you restart the router?"},
    {"role": "user", "content": "Yes, twice."},
    {"role": "assistant", "content": " I have opened ticket 4411; a technician calls you today. "},
]

try:
    import jinja2  # noqa: F401
    HAVE_JINJA = True
except ImportError:
    HAVE_JINJA = False


class NamedTemplates(unittest.TestCase):
    def test_spans_cover_assistant_turns_and_end_markers(self):
        ends = {"llama-3": "<|eot_id|>", "chatml": "<|im_end|>", "mistral": "</s>", "gemma": "<end_of_turn>",
                "phi-3": "<|end|>"}
        for name in T.RENDERERS:
            text, spans = T.render_named(name, CONV, "<s>", "</s>")
            self.assertEqual(len(spans), 2, name)
            for (s, e), turn in zip(spans, [CONV[2], CONV[4]]):
                piece = text[s:e]
                self.assertTrue(piece.endswith(ends[name]), (name, piece))
                self.assertIn(turn["content"].strip(), piece, name)
                self.assertNotIn("Yes, twice", piece)

    def test_system_prompt_merged_where_template_has_no_system_role(self):
        for name in ("mistral", "gemma"):
            text, _ = T.render_named(name, CONV, "<s>", "</s>")
            self.assertIn("You are the support assistant of Acme Telecom.\n\nMy internet is down", text)
        text, _ = T.render_named("chatml", CONV)
        self.assertTrue(text.startswith("<|im_start|>system\nYou are the support"))

    def test_generation_prompt(self):
        text, _ = T.render_named("chatml", CONV[:2], add_generation_prompt=True)
        self.assertTrue(text.endswith("<|im_start|>assistant\n"))
        text, _ = T.render_named("llama-3", CONV[:2], "<|begin_of_text|>", add_generation_prompt=True)
        self.assertTrue(text.startswith("<|begin_of_text|><|start_header_id|>system"))
        self.assertTrue(text.endswith("<|start_header_id|>assistant<|end_header_id|>\n\n"))

    def test_with_system_prompt(self):
        msgs = T.with_system_prompt(CONV[1:], "Be brief.")
        self.assertEqual(msgs[0], {"role": "system", "content": "Be brief."})
        self.assertEqual(T.with_system_prompt(CONV, "Be brief."), CONV)  # the row's own wins

    def test_normalize_messages(self):
        msgs = T.normalize_messages([{"role": "user", "content": [{"type": "text", "text": "hi"}]}])
        self.assertEqual(msgs, [{"role": "user", "content": "hi"}])
        with self.assertRaises(ValueError):
            T.normalize_messages([{"role": "user"}])
        with self.assertRaises(ValueError):
            T.normalize_messages([])


@unittest.skipUnless(HAVE_JINJA, "jinja2 not installed: the Jinja/Python template equality is checked where it is")
class JinjaEquality(unittest.TestCase):
    def test_python_renderers_equal_jinja(self):
        for name, src in T.JINJA.items():
            render = T.jinja_renderer(src, bos_token="<s>", eos_token="</s>")
            for conv in (CONV, CONV[1:], CONV[:2], CONV[1:3]):
                for gp in (False, True):
                    if name == "mistral" and gp:
                        continue
                    expected = render(conv, gp)
                    got, _ = T.render_named(name, conv, "<s>", "</s>", add_generation_prompt=gp)
                    self.assertEqual(got, expected, (name, gp, len(conv)))

    def test_prefix_rendering_finds_the_same_spans(self):
        for name, src in T.JINJA.items():
            render = T.jinja_renderer(src, bos_token="<s>", eos_token="</s>")
            text, spans = T.render_with_spans(render, CONV)
            text2, spans2 = T.render_named(name, CONV, "<s>", "</s>")
            self.assertEqual(text, text2, name)
            self.assertEqual(spans, spans2, name)

    def test_unusual_template_falls_back_to_content_search(self):
        # renders earlier assistant turns without their content marker differently
        src = ("{% for m in messages %}{% if m['role'] == 'assistant' and not loop.last %}[old]{{ m['content'] }}"
               "{% else %}<{{ m['role'] }}>{{ m['content'] }}</{{ m['role'] }}>{% endif %}{% endfor %}"
               "{% if add_generation_prompt %}<assistant>{% endif %}")
        render = T.jinja_renderer(src)
        text, spans = T.render_with_spans(render, CONV)
        pieces = [text[s:e] for s, e in spans]
        self.assertEqual(len(pieces), 2)
        self.assertIn("Did you restart the router?", pieces[0])
        self.assertIn("ticket 4411", pieces[1])


class PrefixRenderingWithoutJinja(unittest.TestCase):
    def test_python_render_function(self):
        def render(msgs, gp):
            s = "".join(f"<{m['role']}>{m['content']}</{m['role']}>\n" for m in msgs)
            return s + ("<assistant>" if gp else "")
        text, spans = T.render_with_spans(render, CONV)
        self.assertEqual([text[s:e] for s, e in spans],
                         [CONV[2]["content"] + "</assistant>", CONV[4]["content"] + "</assistant>"])


if __name__ == "__main__":
    unittest.main()
