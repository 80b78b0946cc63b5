"""Plain words: each technical term in one sentence where a learner first meets it, the details "for the curious",
and the three questions the plots raise (why G's loss rises, why D's outputs do not meet at 0.5, mode collapse).

No logic here: text, and one helper that puts details in a closed fold under the plain sentence.
"""

import gradio as gr

CURIOUS = "For the curious"

# ---- terms: (one plain sentence, the details) ----------------------------------------------------

LATENT = (
    "A **latent z** is the 100 random numbers the Generator turns into one picture; the seed picks them.",
    "Each number is drawn from a bell curve (a standard Gaussian). 100 such numbers make a point whose distance "
    "from the centre (its *length*) is almost always close to 10, so the Generator only ever saw points near a "
    "sphere of radius 10.",
)
SLERP = (
    "**Slerp** walks from A's *z* to B's *z* along that sphere, keeping the length about 10; **lerp** walks in a "
    "straight line, which cuts inside the sphere.",
    "Half-way along a straight line between two random *z* of length 10, the length is only about 7 (the two are "
    "nearly at right angles): a *z* shorter than any the Generator saw in training, so its digits come out fainter. "
    "Slerp (spherical linear interpolation) turns along the sphere instead.",
)
DIRECTIONS = (
    "A **direction** is a way to nudge *z* that changes the picture a lot; the sliders push *z* along the few "
    "directions that change it most at this epoch.",
    "Technically: for many random *z*, the app measures how each of the 784 pixels responds to a small change in "
    "each of the 100 numbers (the Generator's *Jacobian*), and keeps the directions that move the pixels most on "
    "average (the top eigenvectors of E[JᵀJ], its *principal directions*). + adds ink along that direction.",
)
PROBABILITY = (
    "**p(8)** is how sure the classifier is that a picture is an 8, from 0 to 100%; tiny values are written like "
    "2.8e-06, which means 0.0000028 (a few in a million).",
    "The classifier gives ten such numbers per picture and they add up to 100%. A higher p(8) only means something "
    "for a picture the judge accepts as a digit: it must name some digit even for noise.",
)
JUDGE = (
    "The **judge** is a small digit classifier trained by the project; it names the digit in a picture, or says "
    "*not a digit* when the picture looks like none of the real digits it knows.",
    "A classifier's answer always names a digit, even for noise. So the judge also checks how far the picture lies "
    "from the real digits of the named class inside the classifier (three of its layers). It rejects what lies "
    "further out than 99% of real digits: about 1% of real MNIST test digits, all noise, and the first epochs' "
    "blobs. *Digit k is drawn* when at least 2% of N judged samples are accepted as k.",
)
BCE = (
    "A **loss** is how wrong a player is, as one number (lower is better for that player).",
    "Both use *binary cross-entropy* (BCE): D's loss is −log D(x) − log(1 − D(G(z))), small when it says 'real' "
    "to real digits and 'fake' to fakes; G's loss is −log D(G(z)), small when D says 'real' to its fakes.",
)
FID = (
    "**FID** says how far the fakes are from real digits as a whole: lower is closer (real digits against real "
    "digits score about 1).",
    "Fréchet distance: the judge turns each picture into 128 numbers (its features); FID compares the average and "
    "the spread of those numbers over 2,000 fakes with those of 10,000 real test digits. The usual FID uses a big "
    "ImageNet network; this one uses the project's MNIST classifier, so its values are not comparable with papers.",
)
IS = (
    "**IS** is high when each fake is clearly one digit and all ten digits appear (10 at most).",
    "*Inception Score*, here computed with the project's small MNIST classifier instead of the Inception network "
    "it is named after: exp of the average difference (KL divergence) between each picture's ten probabilities "
    "and their average over all pictures.",
)
RECIPE_TERMS = (
    "The settings are the recipe: how fast each player learns and what keeps the game steady.",
    "- **Learning rate**: how big a step each update takes.\n"
    "- **Adam β1**: how much of the previous steps' direction each step keeps (momentum); 0.9 is Adam's default, "
    "0.5 reacts faster when the other player changes.\n"
    "- **EMA of G**: the saved Generator is a slowly moving average of G's recent weights (0.999: about the last "
    "1,000 steps), which smooths out the wobble of the game; 0 saves G as it is.\n"
    "- **Label smoothing**: D is told 'real' as 0.9 instead of 1, so it is never asked to be perfectly sure.\n"
    "- **R1 γ**: a penalty on D for changing its verdict sharply around real digits (γ sets how much), which keeps "
    "D's pushes on G gentle and steady.\n"
    "- **Seed**: fixes every random choice, so the same settings train the same run.",
)

# ---- the three questions ---------------------------------------------------------------------

WHY_G_LOSS_RISES = (
    "**Why does G's loss rise while the pictures get better?** G's loss does not score the pictures; it scores how "
    "well they fool *this epoch's* D. D learns at the same time, and early on it learns faster, so a better G can "
    "still fool a sharper D less often. Look at the tutorial run: G's loss goes up from epoch 5 to 20 while its "
    "blobs turn into strokes. The pictures' quality is FID and IS, not the loss."
)
WHY_D_NOT_HALF = (
    "**Why do D's outputs not meet at 0.5?** They would meet only if the fakes could not be told from real digits at "
    "all. In the tutorial run they settle near 0.68 on real digits and 0.32 on fakes: D, updated after every batch, "
    "keeps finding small flaws that G has not fixed yet (FID stays far above real data's). The lines go flat "
    "because each player's step undoes the other's, not because the fakes became perfect. The stable recipe holds "
    "D back (R1) and moves G faster (β1 0.5): its lines end near 0.52 and 0.48."
)
MODE_COLLAPSE = (
    "**Mode collapse** is when the Generator draws only one or a few kinds of digit, whatever *z* it gets. It finds "
    "a picture that fools D and makes it from every *z*; D then learns to reject that one picture, and G jumps to "
    "another. See it in the tutorial run: after the noise of epochs 1-5 (not a digit), epoch 10 draws almost only "
    "3s and epoch 30 mostly 1s (Digits tab, or *Show labels* on the Timeline); all ten digits come much later."
)
STABLE_RECIPE = (
    "**What the stable recipe changes, and why it helps.** The same networks, data and loss; three settings differ. "
    "(1) Adam β1 0.5 instead of 0.9: each player reacts faster to the other's latest move instead of following its "
    "old direction. (2) R1 γ = 1: D is penalised for sharp changes of verdict around real digits, so the push it "
    "gives G is steady instead of violent. (3) EMA 0.999: the saved Generator is the average of its last ~1,000 "
    "steps, so one unlucky step does not show. Together they cut the tutorial's long collapse short: stable's FID "
    "is about 150 at epoch 10 (the tutorial's: 534) and ends near 7 (the tutorial's: 76); the milestones below "
    "say when each run first drew all ten digits."
)


def term(entry: tuple[str, str]) -> None:
    """The plain sentence, and its details in a closed 'For the curious' fold under it."""
    sentence, details = entry
    gr.Markdown(sentence, elem_classes="explain")
    with gr.Accordion(CURIOUS, open=False):
        gr.Markdown(details)


def curious(*entries: tuple[str, str]) -> None:
    """Several terms' details in one closed fold (their plain sentences are shown elsewhere)."""
    with gr.Accordion(CURIOUS, open=False):
        gr.Markdown("\n\n".join(f"{sentence}\n\n{details}" for sentence, details in entries))
