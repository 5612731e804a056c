"""Beacon's custom actions (rasa-sdk). One module per concern; ``rasa run actions`` loads them all.

content.py   localized content by key and language (the only reader of content/<lang>/)
language.py  which language to answer in
base.py      what every action shares (the Turn helper, BeaconAction)
session.py   greeting and bot disclosure, audience, menu, help, language, restart
safety.py    the crisis replies of the safety net, sextortion guidance, images
helplines.py helpline data and selection;  signposting.py  the helpline actions
signs.py     warning signs lessons;  quiz.py  "red flag or not?";  checkup.py  privacy checkups
flow.py      yes/no/not-sure and "continue" routed to the open flow
"""
