"""A fake GitLab REST server (API v4) for the test suite; see README.md in this folder.

The fixture `fake_gitlab` (tests.fakegitlab.fixture) gives each test a started
`tests.fakegitlab.server.FakeGitLab` and fails the test if the bot sent a request GitLab would
refuse.
"""
