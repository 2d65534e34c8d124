"""The chat protocol without torch (runner/CHAT.md): requests checked, prompts
built with the config's template and system prompt, and a whole session over
pipes with a generation that stands in for the model (it yields words, and
stops only when the session's stop flag says so)."""

from __future__ import annotations

import io
import json
import os
import threading
import time
import unittest

from tunelab_runner.chat_protocol import (MAX_NEW_TOKENS_LIMIT, ProtocolError, Request, Session, Stop,
                                          parse_line, prompt_text, sampling_kwargs)
from tunelab_runner.templates import render_named


def chatml(msgs):
    return render_named("chatml", msgs, add_generation_prompt=True)[0]


class ParseLine(unittest.TestCase):
    def test_a_full_request(self):
        req = parse_line(json.dumps({"id": "a1", "messages": [{"role": "user", "content": "hi"}],
                                     "adapter": "tuned", "max_new_tokens": 12, "temperature": 0.7,
                                     "top_p": 0.9, "system_prompt": "Be brief."}), ["tuned"])
        self.assertIsInstance(req, Request)
        self.assertEqual((req.id, req.adapter, req.max_new_tokens, req.temperature, req.top_p, req.system_prompt),
                         ("a1", "tuned", 12, 0.7, 0.9, "Be brief."))
        self.assertEqual(req.messages, [{"role": "user", "content": "hi"}])

    def test_defaults_and_stop_and_blank(self):
        req = parse_line('{"id": 3, "prompt": "Once"}', [])
        self.assertEqual((req.adapter, req.max_new_tokens, req.temperature, req.top_p), (None, 256, 0.0, 1.0))
        stop = parse_line('{"id": 3, "event": "stop"}', [])
        self.assertIsInstance(stop, Stop)
        self.assertEqual(stop.id, 3)
        self.assertIsNone(parse_line("   \n", []))

    def test_bad_requests_are_refused_with_their_id(self):
        cases = {
            "not json": None,
            "[1]": None,
            '{"prompt": "x"}': None,
            '{"id": true, "prompt": "x"}': None,
            '{"id": "b", "prompt": "x", "messages": [{"role": "user", "content": "y"}]}': "b",
            '{"id": "c"}': "c",
            '{"id": "d", "prompt": "x", "adapter": "nope"}': "d",
            '{"id": "e", "prompt": "x", "max_new_tokens": 0}': "e",
            f'{{"id": "f", "prompt": "x", "max_new_tokens": {MAX_NEW_TOKENS_LIMIT + 1}}}': "f",
            '{"id": "g", "prompt": "x", "max_new_tokens": 2.5}': "g",
            '{"id": "h", "prompt": "x", "max_new_tokens": true}': "h",
            '{"id": "i", "prompt": "x", "top_p": 1.5}': "i",
            '{"id": "j", "prompt": "x", "temperature": "hot"}': "j",
            '{"id": "k", "prompt": "x", "tempreature": 1}': "k",
            '{"id": "l", "messages": []}': "l",
            '{"id": "m", "messages": [{"role": "user"}]}': "m",
            '{"id": "n", "messages": [{"role": "assistant", "content": "done"}]}': "n",
            '{"id": "o", "event": "pause"}': "o",
            '{"id": "p", "prompt": 5}': "p",
        }
        for text, rid in cases.items():
            with self.subTest(text=text):
                with self.assertRaises(ProtocolError) as ctx:
                    parse_line(text, ["tuned"])
                self.assertEqual(ctx.exception.request_id, rid)
        with self.assertRaisesRegex(ProtocolError, "adapters: tuned, other; null for the base"):
            parse_line('{"id": 1, "prompt": "x", "adapter": "x"}', ["tuned", "other"])


class Prompt(unittest.TestCase):
    msgs = [{"role": "user", "content": "My router blinks red."}]

    def req(self, **kw):
        fields = dict(id=1, messages=self.msgs, prompt=None, adapter=None, max_new_tokens=8, temperature=0.0,
                      top_p=1.0, system_prompt=None)
        fields.update(kw)
        return Request(**fields)

    def test_the_configs_system_prompt_and_template_apply(self):
        text = prompt_text(self.req(), chatml, "You are Acme support.")
        self.assertEqual(text, "<|im_start|>system\nYou are Acme support.<|im_end|>\n"
                               "<|im_start|>user\nMy router blinks red.<|im_end|>\n<|im_start|>assistant\n")

    def test_the_requests_system_prompt_wins_and_empty_means_none(self):
        self.assertIn("system\nTerse.<|im_end|>", prompt_text(self.req(system_prompt="Terse."), chatml, "Long."))
        self.assertTrue(prompt_text(self.req(system_prompt=""), chatml, "Long.").startswith("<|im_start|>user"))
        own = [{"role": "system", "content": "Mine."}] + self.msgs
        self.assertNotIn("Long.", prompt_text(self.req(messages=own), chatml, "Long."))

    def test_a_raw_prompt_is_continued_as_is(self):
        self.assertEqual(prompt_text(self.req(messages=None, prompt="Q: hi\nA:"), chatml, "Sys"), "Q: hi\nA:")

    def test_sampling(self):
        self.assertEqual(sampling_kwargs(self.req()), {"max_new_tokens": 8, "do_sample": False})
        self.assertEqual(sampling_kwargs(self.req(temperature=0.5, top_p=0.8)),
                         {"max_new_tokens": 8, "do_sample": True, "temperature": 0.5, "top_p": 0.8})


def words_generation(delay=0.0, endless=False):
    """Stands in for the model: the prompt's last line's words, echoed one by one
    (or round and round up to max_new_tokens), checking the stop flag between them like the StoppingCriteria."""
    def generate(req, prompt, should_stop):
        words = prompt.strip().split("\n")[-1].split() or ["x"]
        i = 0
        while i < req.max_new_tokens and (endless or i < len(words)):
            if should_stop():
                return
            yield (words[i % len(words)] + " ", i + 1)
            i += 1
            time.sleep(delay)
    return generate


class SessionOverPipes(unittest.TestCase):
    def session(self, generate, adapters=()):
        rfd, wfd = os.pipe()
        stdin = os.fdopen(rfd, "r", encoding="utf-8")
        feed = os.fdopen(wfd, "w", encoding="utf-8")
        out = io.StringIO()
        session = Session(stdin, out, generate, chatml, list(adapters), "Sys")
        result = {}
        thread = threading.Thread(target=lambda: result.setdefault("rc", session.run({"base": "tiny"})))
        thread.start()
        return feed, out, thread, result

    @staticmethod
    def events(out):
        return [json.loads(l) for l in out.getvalue().splitlines()]

    def wait_for(self, out, pred, timeout=5.0):
        end = time.time() + timeout
        while time.time() < end:
            if any(pred(e) for e in self.events(out)):
                return
            time.sleep(0.01)
        self.fail(f"timed out; got {out.getvalue()}")

    def test_ready_then_tokens_and_done_per_request_then_eof_ends(self):
        feed, out, thread, result = self.session(words_generation(), ["tuned"])
        feed.write(json.dumps({"id": "q1", "prompt": "alpha beta gamma"}) + "\n")
        feed.write("garbage\n")
        feed.write(json.dumps({"id": "q2", "messages": [{"role": "user", "content": "one two"}],
                               "adapter": "tuned", "max_new_tokens": 1}) + "\n")
        feed.close()
        thread.join(5)
        self.assertEqual(result.get("rc"), 0)
        ev = self.events(out)
        self.assertEqual(ev[0], {"id": None, "event": "ready", "adapters": ["tuned"], "base": "tiny"})
        q1 = [e for e in ev if e["id"] == "q1"]
        self.assertEqual("".join(e["text"] for e in q1 if e["event"] == "token"), "alpha beta gamma ")
        self.assertEqual(q1[-1]["event"], "done")
        self.assertEqual((q1[-1]["tokens"], q1[-1]["stopped"]), (3, False))
        self.assertGreaterEqual(q1[-1]["seconds"], q1[-1]["first_token_seconds"])
        self.assertTrue(any(e["event"] == "error" and e["type"] == "protocol" and e["id"] is None for e in ev))
        # the chat's last line is the generation prompt, so its first word is what the stand-in echoes
        q2 = [e for e in ev if e["id"] == "q2"]
        self.assertEqual([e["event"] for e in q2], ["token", "done"])
        self.assertEqual(q2[0]["text"], "<|im_start|>assistant ")

    def test_stop_ends_the_generation_in_progress_and_drops_a_queued_one(self):
        feed, out, thread, result = self.session(words_generation(delay=0.01, endless=True))
        feed.write(json.dumps({"id": "long", "prompt": "on and on", "max_new_tokens": MAX_NEW_TOKENS_LIMIT}) + "\n")
        feed.write(json.dumps({"id": "queued", "prompt": "never"}) + "\n")
        feed.flush()
        self.wait_for(out, lambda e: e["id"] == "long" and e["event"] == "token")
        feed.write(json.dumps({"id": "queued", "event": "stop"}) + "\n")
        feed.write(json.dumps({"id": "long", "event": "stop"}) + "\n")
        feed.write(json.dumps({"id": "after", "prompt": "still here", "max_new_tokens": 2}) + "\n")
        feed.close()
        thread.join(5)
        self.assertFalse(thread.is_alive(), "a stop did not stop the endless generation")
        ev = self.events(out)
        done = {e["id"]: e for e in ev if e["event"] == "done"}
        self.assertTrue(done["long"]["stopped"])
        self.assertEqual((done["queued"]["tokens"], done["queued"]["stopped"]), (0, True))
        self.assertFalse(any(e["id"] == "queued" and e["event"] == "token" for e in ev))
        self.assertEqual(done["after"]["tokens"], 2)
        self.assertFalse(done["after"]["stopped"])

    def test_a_failing_generation_is_an_error_and_the_session_goes_on(self):
        def generate(req, prompt, should_stop):
            if req.id == "bad":
                raise RuntimeError("CUDA out of memory")
            yield ("ok", 1)
        feed, out, thread, result = self.session(generate)
        feed.write('{"id": "bad", "prompt": "x"}\n{"id": "good", "prompt": "x"}\n')
        feed.close()
        thread.join(5)
        ev = self.events(out)
        self.assertEqual([(e["id"], e["event"]) for e in ev[1:]], [("bad", "error"), ("good", "token"), ("good", "done")])
        self.assertIn("CUDA out of memory", ev[1]["message"])


if __name__ == "__main__":
    unittest.main()
